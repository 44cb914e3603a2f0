//===- Tensor.cpp - .npy and TensorProto readers for the runner -----------===//

#include "qopt/Runner/Tensor.h"

#include "qopt/Runtime/qrt.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace qrun;

bool qrun::getShapeSize(const std::vector<int64_t> &shape, size_t elementSize,
                        int64_t &elements, size_t &bytes) {
  if (elementSize == 0 || elementSize > static_cast<size_t>(INT64_MAX))
    return false;
  int64_t nonzeroBytes = static_cast<int64_t>(elementSize);
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    if (d == 0)
      empty = true;
    else if (__builtin_mul_overflow(nonzeroBytes, d, &nonzeroBytes))
      return false;
  }
  bytes = empty ? 0 : static_cast<size_t>(nonzeroBytes);
  elements = static_cast<int64_t>(bytes / elementSize);
  return true;
}

int64_t Tensor::numElements() const {
  int64_t elements;
  size_t bytes;
  return getShapeSize(shape, 1, elements, bytes) ? elements : -1;
}

static float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff;
  float value;
  if (exponent == 0)
    value = mantissa * (1.0f / (1 << 24));
  else if (exponent == 31)
    value = mantissa ? NAN : INFINITY;
  else
    value = (1.0f + mantissa / 1024.0f) *
            static_cast<float>(exponent >= 15 ? (1 << (exponent - 15))
                                              : 1.0 / (1 << (15 - exponent)));
  return sign ? -value : value;
}

double Tensor::at(int64_t i) const {
  const char *p = data.data();
  switch (dtype) {
  case QART_DTYPE_F32: {
    float v;
    memcpy(&v, p + 4 * i, 4);
    return v;
  }
  case QART_DTYPE_F64: {
    double v;
    memcpy(&v, p + 8 * i, 8);
    return v;
  }
  case QART_DTYPE_F16: {
    uint16_t v;
    memcpy(&v, p + 2 * i, 2);
    return halfToFloat(v);
  }
  case QART_DTYPE_BF16: {
    uint16_t v;
    memcpy(&v, p + 2 * i, 2);
    uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
  }
#define QRUN_INT(DT, T)                                                        \
  case DT: {                                                                   \
    T v;                                                                       \
    memcpy(&v, p + sizeof(T) * i, sizeof(T));                                  \
    return static_cast<double>(v);                                             \
  }
    QRUN_INT(QART_DTYPE_I8, int8_t)
    QRUN_INT(QART_DTYPE_I16, int16_t)
    QRUN_INT(QART_DTYPE_I32, int32_t)
    QRUN_INT(QART_DTYPE_I64, int64_t)
    QRUN_INT(QART_DTYPE_U8, uint8_t)
    QRUN_INT(QART_DTYPE_U16, uint16_t)
    QRUN_INT(QART_DTYPE_U32, uint32_t)
    QRUN_INT(QART_DTYPE_U64, uint64_t)
    QRUN_INT(QART_DTYPE_BOOL, uint8_t)
#undef QRUN_INT
  default:
    return 0;
  }
}

std::string qrun::readFile(const std::string &path, std::string &out) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return "cannot open '" + path + "'";
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad())
    return "cannot read '" + path + "'";
  out = buffer.str();
  return "";
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

static const struct {
  const char *descr;
  int32_t dtype;
} npyTypes[] = {
    {"<f4", QART_DTYPE_F32}, {"<f8", QART_DTYPE_F64}, {"<f2", QART_DTYPE_F16},
    {"|i1", QART_DTYPE_I8},  {"<i2", QART_DTYPE_I16}, {"<i4", QART_DTYPE_I32},
    {"<i8", QART_DTYPE_I64}, {"|u1", QART_DTYPE_U8},  {"<u2", QART_DTYPE_U16},
    {"<u4", QART_DTYPE_U32}, {"<u8", QART_DTYPE_U64}, {"|b1", QART_DTYPE_BOOL},
};

/// The value of `'key': value` in a .npy header dictionary.
static std::string headerField(const std::string &header,
                               const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return "";
  at = header.find(':', at);
  if (at == std::string::npos)
    return "";
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  size_t end = at;
  if (at < header.size() && header[at] == '(')
    end = header.find(')', at) + 1;
  else if (at < header.size() && header[at] == '\'')
    end = header.find('\'', at + 1) + 1;
  else
    while (end < header.size() && header[end] != ',' && header[end] != '}')
      ++end;
  if (end == std::string::npos || end == 0)
    return "";
  return header.substr(at, end - at);
}

std::string qrun::readNpy(const std::string &path, Tensor &out) {
  std::string bytes;
  if (std::string error = readFile(path, bytes); !error.empty())
    return error;
  return parseNpy(bytes, path, out);
}

static std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string qrun::parseNpyHeader(const std::string &bytes,
                                 const std::string &path, NpyHeader &out) {
  auto bad = [&](const std::string &why) {
    return "'" + path + "' is not a valid .npy file: " + why;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return bad("missing magic");
  uint8_t major = bytes[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength =
        static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return bad("truncated header");
    uint32_t length;
    memcpy(&length, &bytes[8], 4);
    headerLength = length;
    headerStart = 12;
  } else {
    return bad("unknown version " + std::to_string(major));
  }
  if (headerStart + headerLength > bytes.size())
    return bad("truncated header");
  std::string header = bytes.substr(headerStart, headerLength);
  std::string descr = headerField(header, "descr");
  std::string order = headerField(header, "fortran_order");
  std::string shape = headerField(header, "shape");
  if (descr.size() < 2 || shape.empty())
    return bad("header lacks descr or shape");
  descr = descr.substr(1, descr.size() - 2);
  if (order != "False")
    return bad("Fortran order is not supported; save it C-contiguous");
  out = NpyHeader();
  for (const auto &type : npyTypes)
    if (descr == type.descr ||
        (descr[0] == '=' && descr.substr(1) == std::string(type.descr + 1)))
      out.dtype = type.dtype;
  if (!out.dtype)
    return bad("unsupported dtype '" + descr + "'");
  std::string dims = shape.substr(1, shape.size() - 2);
  std::stringstream stream(dims);
  std::string item;
  while (std::getline(stream, item, ',')) {
    size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    char *end = nullptr;
    long long dim = strtoll(item.c_str() + first, &end, 10);
    if (dim < 0 || end == item.c_str() + first)
      return bad("bad shape " + shape);
    out.shape.push_back(dim);
  }
  int64_t count;
  if (!getShapeSize(out.shape, qrt_dtype_size(out.dtype), count, out.dataBytes))
    return bad("shape " + shape + " is too large");
  out.dataOffset = headerStart + headerLength;
  return "";
}

std::string qrun::parseNpy(const std::string &bytes, const std::string &path,
                           Tensor &out) {
  NpyHeader header;
  if (std::string error = parseNpyHeader(bytes, path, header); !error.empty())
    return error;
  if (bytes.size() - header.dataOffset < header.dataBytes)
    return "'" + path +
           "' is not a valid .npy file: data is shorter than "
           "shape " +
           formatShape(header.shape) + " needs";
  out = Tensor();
  out.dtype = header.dtype;
  out.shape = header.shape;
  out.data.assign(bytes.begin() + header.dataOffset,
                  bytes.begin() + header.dataOffset + header.dataBytes);
  return "";
}

NpyFile::NpyFile(NpyFile &&other) noexcept
    : filePath(std::move(other.filePath)), head(std::move(other.head)),
      fd(other.fd) {
  other.fd = -1;
}

NpyFile &NpyFile::operator=(NpyFile &&other) noexcept {
  if (this != &other) {
    close();
    filePath = std::move(other.filePath);
    head = std::move(other.head);
    fd = other.fd;
    other.fd = -1;
  }
  return *this;
}

NpyFile::~NpyFile() { close(); }

void NpyFile::close() {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

size_t NpyFile::rowBytes() const {
  return rows() > 0 ? head.dataBytes / static_cast<size_t>(rows()) : 0;
}

/// Reads exactly `size` bytes at `offset`; false on an error or end of file.
static bool readAt(int fd, char *out, size_t size, off_t offset) {
  while (size > 0) {
    ssize_t got = pread(fd, out, size, offset);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    out += got;
    size -= static_cast<size_t>(got);
    offset += got;
  }
  return true;
}

std::string NpyFile::open(const std::string &path) {
  close();
  filePath = path;
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return "cannot open '" + path + "': " + strerror(errno);
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close();
    return "'" + path + "' is not a regular file";
  }
  size_t fileSize = static_cast<size_t>(info.st_size);
  // The fixed part, then the header it announces (at most 1 MiB: NumPy
  // writes a few hundred bytes).
  std::string bytes(std::min<size_t>(fileSize, 12), '\0');
  if (!readAt(fd, bytes.data(), bytes.size(), 0)) {
    close();
    return "cannot read '" + path + "'";
  }
  size_t headerEnd = bytes.size();
  if (bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0) {
    uint8_t major = bytes[6];
    if (major == 1)
      headerEnd = 10 + (static_cast<uint8_t>(bytes[8]) |
                        (static_cast<uint8_t>(bytes[9]) << 8));
    else if ((major == 2 || major == 3) && bytes.size() >= 12) {
      uint32_t length;
      memcpy(&length, &bytes[8], 4);
      headerEnd = 12 + static_cast<size_t>(length);
    }
  }
  if (headerEnd > (size_t(1) << 20)) {
    close();
    return "'" + path + "' is not a valid .npy file: a header of " +
           std::to_string(headerEnd) + " bytes";
  }
  headerEnd = std::min(headerEnd, fileSize);
  if (headerEnd > bytes.size()) {
    bytes.resize(headerEnd);
    if (!readAt(fd, bytes.data(), headerEnd, 0)) {
      close();
      return "cannot read '" + path + "'";
    }
  }
  if (std::string error = parseNpyHeader(bytes, path, head); !error.empty()) {
    close();
    return error;
  }
  if (fileSize - head.dataOffset < head.dataBytes) {
    close();
    return "'" + path + "' is truncated: its shape " + formatShape(head.shape) +
           " needs " + std::to_string(head.dataBytes) +
           " bytes of data, the file has " +
           std::to_string(fileSize - head.dataOffset);
  }
  return "";
}

std::string NpyFile::readRows(int64_t first, int64_t count,
                              std::vector<char> &out) {
  if (first < 0 || count < 0 || first + count > rows())
    return "'" + filePath + "': rows " + std::to_string(first) + ".." +
           std::to_string(first + count - 1) + " of " + std::to_string(rows());
  if (fd < 0) {
    fd = ::open(filePath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return "cannot open '" + filePath + "': " + strerror(errno);
  }
  size_t size = rowBytes() * static_cast<size_t>(count);
  size_t at = out.size();
  out.resize(at + size);
  if (!readAt(fd, out.data() + at, size,
              static_cast<off_t>(head.dataOffset +
                                 rowBytes() * static_cast<size_t>(first))))
    return "cannot read rows " + std::to_string(first) + ".." +
           std::to_string(first + count - 1) + " of '" + filePath +
           "' (did it change since it was opened?)";
  return "";
}

std::string qrun::writeNpy(const std::string &path, const Tensor &tensor) {
  const char *descr = nullptr;
  for (const auto &type : npyTypes)
    if (type.dtype == tensor.dtype)
      descr = type.descr;
  if (!descr)
    return std::string("cannot write dtype ") + qrt_dtype_name(tensor.dtype) +
           " as .npy";
  std::string shape = "(";
  for (int64_t d : tensor.shape)
    shape += std::to_string(d) + ",";
  if (tensor.shape.size() > 1)
    shape.pop_back();
  shape += ")";
  std::string header = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string tmp = path + ".tmp";
  FILE *file = fopen(tmp.c_str(), "wb");
  if (!file)
    return "cannot write '" + path + "'";
  uint16_t length = static_cast<uint16_t>(header.size());
  bool ok = fwrite("\x93NUMPY\x01\x00", 1, 8, file) == 8 &&
            fwrite(&length, 1, 2, file) == 2 &&
            fwrite(header.data(), 1, header.size(), file) == header.size() &&
            fwrite(tensor.data.data(), 1, tensor.data.size(), file) ==
                tensor.data.size();
  ok &= fclose(file) == 0;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    remove(tmp.c_str());
    return "cannot write '" + path + "'";
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Protobuf wire format (just what TensorProto and the op list need)
//===----------------------------------------------------------------------===//

namespace {
struct Reader {
  const uint8_t *p, *end;
  bool ok = true;

  bool done() const { return p >= end || !ok; }
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) {
        ok = false;
        return 0;
      }
      uint8_t byte = *p++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return value;
    }
    ok = false;
    return 0;
  }
  /// Reads a field key; false at the end or on corrupt input.
  bool field(uint32_t &number, uint32_t &wire) {
    if (done())
      return false;
    uint64_t key = varint();
    number = key >> 3;
    wire = key & 7;
    return ok;
  }
  std::string bytes() {
    uint64_t length = varint();
    if (!ok || length > static_cast<uint64_t>(end - p)) {
      ok = false;
      return "";
    }
    std::string value(reinterpret_cast<const char *>(p), length);
    p += length;
    return value;
  }
  void skip(uint32_t wire) {
    switch (wire) {
    case 0:
      varint();
      return;
    case 1:
      advance(8);
      return;
    case 2:
      bytes();
      return;
    case 5:
      advance(4);
      return;
    default:
      ok = false;
    }
  }
  void advance(size_t n) {
    if (static_cast<size_t>(end - p) < n)
      ok = false;
    else
      p += n;
  }
};

/// ONNX TensorProto.DataType to qart_dtype (0: unsupported).
int32_t fromOnnxType(uint64_t type) {
  switch (type) {
  case 1:
    return QART_DTYPE_F32;
  case 2:
    return QART_DTYPE_U8;
  case 3:
    return QART_DTYPE_I8;
  case 4:
    return QART_DTYPE_U16;
  case 5:
    return QART_DTYPE_I16;
  case 6:
    return QART_DTYPE_I32;
  case 7:
    return QART_DTYPE_I64;
  case 9:
    return QART_DTYPE_BOOL;
  case 10:
    return QART_DTYPE_F16;
  case 11:
    return QART_DTYPE_F64;
  case 12:
    return QART_DTYPE_U32;
  case 13:
    return QART_DTYPE_U64;
  case 16:
    return QART_DTYPE_BF16;
  default:
    return 0;
  }
}

template <typename T> void append(std::vector<char> &data, T value) {
  const char *bytes = reinterpret_cast<const char *>(&value);
  data.insert(data.end(), bytes, bytes + sizeof(T));
}
} // namespace

std::string qrun::readTensorProto(const std::string &path, Tensor &out) {
  std::string bytes;
  if (std::string error = readFile(path, bytes); !error.empty())
    return error;
  return parseTensorProto(bytes, path, out);
}

std::string qrun::parseTensorProto(const std::string &bytes,
                                   const std::string &path, Tensor &out) {
  Reader r{reinterpret_cast<const uint8_t *>(bytes.data()),
           reinterpret_cast<const uint8_t *>(bytes.data()) + bytes.size()};
  out = Tensor();
  uint64_t onnxType = 0;
  std::string raw;
  bool hasRaw = false;
  std::vector<double> floats;      // float_data, double_data
  std::vector<int64_t> ints;       // int32_data, int64_data
  std::vector<uint64_t> unsigneds; // uint64_data
  uint32_t number, wire;
  auto packed = [&](auto &&readOne) {
    if (wire == 2) {
      std::string chunk = r.bytes();
      Reader inner{reinterpret_cast<const uint8_t *>(chunk.data()),
                   reinterpret_cast<const uint8_t *>(chunk.data()) +
                       chunk.size()};
      while (!inner.done())
        readOne(inner);
      r.ok &= inner.ok;
    } else {
      readOne(r);
    }
  };
  while (r.field(number, wire)) {
    switch (number) {
    case 1: // dims
      packed([&](Reader &in) {
        out.shape.push_back(static_cast<int64_t>(in.varint()));
      });
      break;
    case 2:
      onnxType = r.varint();
      break;
    case 4: // float_data
      packed([&](Reader &in) {
        float v;
        if (static_cast<size_t>(in.end - in.p) < 4) {
          in.ok = false;
          return;
        }
        memcpy(&v, in.p, 4);
        in.p += 4;
        floats.push_back(v);
      });
      break;
    case 5: // int32_data (also f16/bf16/bool/8- and 16-bit ints)
    case 7: // int64_data
      packed([&](Reader &in) {
        ints.push_back(static_cast<int64_t>(in.varint()));
      });
      break;
    case 8:
      out.name = r.bytes();
      break;
    case 9:
      raw = r.bytes();
      hasRaw = true;
      break;
    case 10: // double_data
      packed([&](Reader &in) {
        double v;
        if (static_cast<size_t>(in.end - in.p) < 8) {
          in.ok = false;
          return;
        }
        memcpy(&v, in.p, 8);
        in.p += 8;
        floats.push_back(v);
      });
      break;
    case 11: // uint64_data
      packed([&](Reader &in) { unsigneds.push_back(in.varint()); });
      break;
    case 13: // external_data
    case 14: // data_location
      return "'" + path + "': tensors with external data are not supported";
    default:
      r.skip(wire);
    }
    if (!r.ok)
      break;
  }
  if (!r.ok)
    return "'" + path + "' is not a valid ONNX TensorProto";
  out.dtype = fromOnnxType(onnxType);
  if (!out.dtype)
    return "'" + path + "': unsupported ONNX element type " +
           std::to_string(onnxType);
  for (int64_t d : out.shape)
    if (d < 0)
      return "'" + path + "': negative dimension";
  size_t elemSize = qrt_dtype_size(out.dtype);
  int64_t elements;
  size_t byteSize;
  if (!getShapeSize(out.shape, elemSize, elements, byteSize))
    return "'" + path + "': the shape is too large";
  size_t count = static_cast<size_t>(elements);
  if (hasRaw) {
    if (raw.size() != byteSize)
      return "'" + path + "': raw_data has " + std::to_string(raw.size()) +
             " bytes, the shape needs " + std::to_string(byteSize);
    out.data.assign(raw.begin(), raw.end());
    return "";
  }
  // The typed field that holds this element type: float_data/double_data
  // for floats, uint64_data (or int64_data) for UINT32 and UINT64,
  // int32_data or int64_data for the rest.
  bool isFloat = out.dtype == QART_DTYPE_F32 || out.dtype == QART_DTYPE_F64;
  bool fromUnsigned =
      (out.dtype == QART_DTYPE_U64 || out.dtype == QART_DTYPE_U32) &&
      !unsigneds.empty();
  size_t have = isFloat        ? floats.size()
                : fromUnsigned ? unsigneds.size()
                               : ints.size();
  size_t other = floats.size() + ints.size() + unsigneds.size() - have;
  if (have != count || other != 0)
    return "'" + path + "': " + std::to_string(have) +
           " values of the element type's field for a shape of " +
           std::to_string(count) + " elements" +
           (other ? " (and " + std::to_string(other) +
                        " in fields of other types)"
                  : "");
  out.data.reserve(count * elemSize);
  for (size_t i = 0; i < count; ++i) {
    switch (out.dtype) {
    case QART_DTYPE_F32:
      append<float>(out.data, static_cast<float>(floats[i]));
      break;
    case QART_DTYPE_F64:
      append<double>(out.data, floats[i]);
      break;
    case QART_DTYPE_F16:
    case QART_DTYPE_BF16:
    case QART_DTYPE_U16:
    case QART_DTYPE_I16:
      append<uint16_t>(out.data, static_cast<uint16_t>(ints[i]));
      break;
    case QART_DTYPE_I8:
    case QART_DTYPE_U8:
    case QART_DTYPE_BOOL:
      append<uint8_t>(out.data, static_cast<uint8_t>(ints[i]));
      break;
    case QART_DTYPE_I32:
      append<int32_t>(out.data, static_cast<int32_t>(ints[i]));
      break;
    case QART_DTYPE_U32:
      append<uint32_t>(out.data, fromUnsigned
                                     ? static_cast<uint32_t>(unsigneds[i])
                                     : static_cast<uint32_t>(ints[i]));
      break;
    case QART_DTYPE_I64:
      append<int64_t>(out.data, ints[i]);
      break;
    case QART_DTYPE_U64:
      append<uint64_t>(out.data, fromUnsigned ? unsigneds[i]
                                              : static_cast<uint64_t>(ints[i]));
      break;
    }
  }
  return "";
}

/// Collects op types of a GraphProto (field 1: nodes; node field 4: op_type,
/// 7: domain, 5: attributes whose field 6/11 hold subgraphs).
static void collectGraphOps(const std::string &graph,
                            std::set<std::string> &ops, bool &ok, int depth);

static void collectNodeOps(const std::string &node, std::set<std::string> &ops,
                           bool &ok, int depth) {
  Reader r{reinterpret_cast<const uint8_t *>(node.data()),
           reinterpret_cast<const uint8_t *>(node.data()) + node.size()};
  std::string op, domain;
  uint32_t number, wire;
  while (r.field(number, wire)) {
    if (number == 4 && wire == 2)
      op = r.bytes();
    else if (number == 7 && wire == 2)
      domain = r.bytes();
    else if (number == 5 && wire == 2) {
      std::string attribute = r.bytes();
      Reader a{reinterpret_cast<const uint8_t *>(attribute.data()),
               reinterpret_cast<const uint8_t *>(attribute.data()) +
                   attribute.size()};
      uint32_t n, w;
      while (a.field(n, w)) {
        if ((n == 6 || n == 11) && w == 2)
          collectGraphOps(a.bytes(), ops, ok, depth + 1);
        else
          a.skip(w);
      }
      ok &= a.ok;
    } else
      r.skip(wire);
  }
  ok &= r.ok;
  if (!op.empty())
    ops.insert(domain.empty() || domain == "ai.onnx" ? op : domain + "::" + op);
}

static void collectGraphOps(const std::string &graph,
                            std::set<std::string> &ops, bool &ok, int depth) {
  if (depth > 16) {
    ok = false;
    return;
  }
  Reader r{reinterpret_cast<const uint8_t *>(graph.data()),
           reinterpret_cast<const uint8_t *>(graph.data()) + graph.size()};
  uint32_t number, wire;
  while (r.field(number, wire)) {
    if (number == 1 && wire == 2)
      collectNodeOps(r.bytes(), ops, ok, depth);
    else
      r.skip(wire);
  }
  ok &= r.ok;
}

std::string qrun::readModelOps(const std::string &path,
                               std::vector<std::string> &result) {
  std::string bytes;
  if (std::string error = readFile(path, bytes); !error.empty())
    return error;
  return parseModelOps(bytes, path, result);
}

std::string qrun::parseModelOps(const std::string &bytes,
                                const std::string &path,
                                std::vector<std::string> &result) {
  Reader r{reinterpret_cast<const uint8_t *>(bytes.data()),
           reinterpret_cast<const uint8_t *>(bytes.data()) + bytes.size()};
  std::set<std::string> ops;
  bool ok = true;
  uint32_t number, wire;
  while (r.field(number, wire)) {
    if (number == 7 && wire == 2)
      collectGraphOps(r.bytes(), ops, ok, 0);
    else
      r.skip(wire);
  }
  if (!r.ok || !ok)
    return "'" + path + "' is not a valid ONNX model";
  result.assign(ops.begin(), ops.end());
  return "";
}

std::string qrun::readModelInputs(const std::string &path,
                                  std::vector<std::string> &names) {
  std::string bytes;
  if (std::string error = readFile(path, bytes); !error.empty())
    return error;
  return parseModelInputs(bytes, path, names);
}

std::string qrun::parseModelInputs(const std::string &bytes,
                                   const std::string &path,
                                   std::vector<std::string> &names) {
  Reader r{reinterpret_cast<const uint8_t *>(bytes.data()),
           reinterpret_cast<const uint8_t *>(bytes.data()) + bytes.size()};
  std::string graph;
  uint32_t number, wire;
  while (r.field(number, wire)) {
    if (number == 7 && wire == 2)
      graph = r.bytes();
    else
      r.skip(wire);
  }
  Reader g{reinterpret_cast<const uint8_t *>(graph.data()),
           reinterpret_cast<const uint8_t *>(graph.data()) + graph.size()};
  std::set<std::string> initializers;
  std::vector<std::string> inputs;
  // Field 5: initializer (TensorProto, name = 8); 11: input (ValueInfoProto,
  // name = 1).
  auto nameOf = [](const std::string &message, uint32_t field, bool &ok) {
    Reader m{reinterpret_cast<const uint8_t *>(message.data()),
             reinterpret_cast<const uint8_t *>(message.data()) +
                 message.size()};
    uint32_t n, w;
    std::string name;
    while (m.field(n, w)) {
      if (n == field && w == 2)
        name = m.bytes();
      else
        m.skip(w);
    }
    ok &= m.ok;
    return name;
  };
  bool ok = r.ok;
  while (g.field(number, wire)) {
    if (number == 5 && wire == 2)
      initializers.insert(nameOf(g.bytes(), 8, ok));
    else if (number == 11 && wire == 2)
      inputs.push_back(nameOf(g.bytes(), 1, ok));
    else
      g.skip(wire);
  }
  if (!ok || !g.ok)
    return "'" + path + "' is not a valid ONNX model";
  names.clear();
  for (const std::string &name : inputs)
    if (!initializers.count(name))
      names.push_back(name);
  return "";
}
