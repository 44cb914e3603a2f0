//===- Unicode.cpp - UTF-8, categories and NFC for the tokenizers ---------===//
//
// NFC follows UAX #15: full canonical decomposition (Hangul algorithmically),
// the canonical ordering of combining marks, then canonical composition of
// each starter with the following unblocked characters.
//
//===----------------------------------------------------------------------===//

#include "Unicode.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

using namespace qrun;

namespace {

struct CodeRange {
  char32_t first, last;
};
struct ClassRange {
  char32_t first, last;
  int ccc;
};
struct Decomposition {
  char32_t code, first, second; // second = 0: a singleton
};
struct Composition {
  char32_t first, second, composite;
};

#include "UnicodeData.inc"

template <typename Range, size_t N>
const Range *findRange(const Range (&ranges)[N], char32_t code) {
  const Range *end = ranges + N;
  const Range *it =
      std::upper_bound(ranges, end, code, [](char32_t c, const Range &range) {
        return c < range.first;
      });
  if (it == ranges)
    return nullptr;
  --it;
  return code <= it->last ? it : nullptr;
}

// Hangul syllables (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161,
                   kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28,
              kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

struct NfcTables {
  std::unordered_map<char32_t, const Decomposition *> decompositions;
  std::unordered_map<uint64_t, char32_t> compositions;
  NfcTables() {
    for (const Decomposition &d : kDecompositions)
      decompositions[d.code] = &d;
    for (const Composition &c : kCompositions)
      compositions[(static_cast<uint64_t>(c.first) << 32) | c.second] =
          c.composite;
  }
};

const NfcTables &nfcTables() {
  static const NfcTables tables;
  return tables;
}

void decompose(const NfcTables &tables, char32_t code, std::u32string &out) {
  if (code >= kSBase && code < kSBase + kSCount) {
    int s = static_cast<int>(code - kSBase);
    out += static_cast<char32_t>(kLBase + s / kNCount);
    out += static_cast<char32_t>(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount)
      out += static_cast<char32_t>(kTBase + s % kTCount);
    return;
  }
  auto it = tables.decompositions.find(code);
  if (it == tables.decompositions.end()) {
    out += code;
    return;
  }
  decompose(tables, it->second->first, out);
  if (it->second->second)
    decompose(tables, it->second->second, out);
}

/// The primary composite of `first` and `second`, or 0.
char32_t compose(const NfcTables &tables, char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount)
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  if (first >= kSBase && first < kSBase + kSCount &&
      (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount)
    return first + (second - kTBase);
  auto it =
      tables.compositions.find((static_cast<uint64_t>(first) << 32) | second);
  return it == tables.compositions.end() ? 0 : it->second;
}

} // namespace

const char *unicode::version() { return QOPT_UNICODE_VERSION; }

bool unicode::decodeUtf8(const std::string &text, size_t &at, char32_t &code) {
  size_t n = text.size();
  if (at >= n)
    return false;
  unsigned char c = static_cast<unsigned char>(text[at]);
  if (c < 0x80) {
    code = c;
    ++at;
    return true;
  }
  int length;
  char32_t value, minimum;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2, value = c & 0x1F, minimum = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3, value = c & 0x0F, minimum = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4, value = c & 0x07, minimum = 0x10000;
  } else {
    return false;
  }
  if (at + length > n)
    return false;
  for (int i = 1; i < length; ++i) {
    unsigned char d = static_cast<unsigned char>(text[at + i]);
    if ((d & 0xC0) != 0x80)
      return false;
    value = (value << 6) | (d & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF ||
      (value >= 0xD800 && value <= 0xDFFF))
    return false;
  code = value;
  at += length;
  return true;
}

size_t unicode::invalidUtf8Offset(const std::string &text) {
  size_t at = 0;
  char32_t code;
  while (at < text.size())
    if (!decodeUtf8(text, at, code))
      return at;
  return std::string::npos;
}

void unicode::appendUtf8(char32_t code, std::string &out) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

std::string unicode::lossyUtf8(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0, n = text.size();
  while (at < n) {
    size_t start = at;
    char32_t code;
    if (decodeUtf8(text, at, code)) {
      out.append(text, start, at - start);
      continue;
    }
    // A maximal subpart: the longest prefix of a valid sequence, at least
    // one byte (Unicode 3.9, "U+FFFD Substitution of Maximal Subparts").
    unsigned char c = static_cast<unsigned char>(text[at]);
    size_t length = 1;
    auto inRange = [&](size_t i, unsigned lo, unsigned hi) {
      if (at + i >= n)
        return false;
      unsigned d = static_cast<unsigned char>(text[at + i]);
      return d >= lo && d <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) {
      length = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (inRange(1, lo, hi))
        length = inRange(2, 0x80, 0xBF) ? 3 : 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (inRange(1, lo, hi)) {
        length = 2;
        if (inRange(2, 0x80, 0xBF))
          length = inRange(3, 0x80, 0xBF) ? 4 : 3;
      }
    }
    at += length;
    out += "\xEF\xBF\xBD";
  }
  return out;
}

std::u32string unicode::toUtf32(const std::string &text) {
  std::u32string out;
  out.reserve(text.size());
  size_t at = 0;
  char32_t code;
  while (at < text.size()) {
    if (!decodeUtf8(text, at, code)) {
      code = 0xFFFD;
      ++at;
    }
    out += code;
  }
  return out;
}

std::string unicode::toUtf8(const char32_t *begin, const char32_t *end) {
  std::string out;
  out.reserve(static_cast<size_t>(end - begin));
  for (const char32_t *it = begin; it != end; ++it)
    appendUtf8(*it, out);
  return out;
}

std::string unicode::toUtf8(const std::u32string &text) {
  return toUtf8(text.data(), text.data() + text.size());
}

bool unicode::isLetter(char32_t code) {
  if (code < 0x80)
    return (code | 0x20) >= 'a' && (code | 0x20) <= 'z';
  return findRange(kLetterRanges, code) != nullptr;
}

bool unicode::isNumber(char32_t code) {
  if (code < 0x80)
    return code >= '0' && code <= '9';
  return findRange(kNumberRanges, code) != nullptr;
}

bool unicode::isWhiteSpace(char32_t code) {
  switch (code) {
  case 0x09:
  case 0x0A:
  case 0x0B:
  case 0x0C:
  case 0x0D:
  case 0x20:
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000:
    return true;
  default:
    return code >= 0x2000 && code <= 0x200A;
  }
}

int unicode::combiningClass(char32_t code) {
  if (code < 0x300)
    return 0;
  const ClassRange *range = findRange(kCombiningClasses, code);
  return range ? range->ccc : 0;
}

std::string unicode::nfc(const std::string &text) {
  // Below U+0300 every character is its own NFC and a starter that nothing
  // before it composes with: ASCII and Latin-1 text comes back unchanged.
  size_t at = 0;
  bool simple = true;
  while (at < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[at]);
    if (c < 0x80) {
      ++at;
      continue;
    }
    char32_t code;
    if (!decodeUtf8(text, at, code) || code >= 0x300) {
      simple = false;
      break;
    }
  }
  if (simple)
    return text;

  const NfcTables &tables = nfcTables();
  std::u32string decomposed;
  decomposed.reserve(text.size());
  at = 0;
  char32_t code;
  while (at < text.size()) {
    if (!decodeUtf8(text, at, code)) {
      code = 0xFFFD;
      ++at;
    }
    decompose(tables, code, decomposed);
  }
  // Canonical ordering: a stable sort of each run of non-starters by class.
  std::vector<int> classes(decomposed.size());
  for (size_t i = 0; i < decomposed.size(); ++i)
    classes[i] = combiningClass(decomposed[i]);
  for (size_t i = 0; i < decomposed.size();) {
    if (classes[i] == 0) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < decomposed.size() && classes[end] != 0)
      ++end;
    // Insertion sort: runs of marks are short.
    for (size_t j = i + 1; j < end; ++j)
      for (size_t k = j; k > i && classes[k - 1] > classes[k]; --k) {
        std::swap(classes[k - 1], classes[k]);
        std::swap(decomposed[k - 1], decomposed[k]);
      }
    i = end;
  }
  // Composition.
  std::u32string out;
  out.reserve(decomposed.size());
  size_t starter = std::u32string::npos;
  int lastClass = 0;
  for (size_t i = 0; i < decomposed.size(); ++i) {
    char32_t c = decomposed[i];
    int cls = classes[i];
    if (starter != std::u32string::npos) {
      // Unblocked: nothing between the starter and c, or everything between
      // has a lower, non-zero class.
      bool unblocked =
          out.size() == starter + 1 || (lastClass != 0 && lastClass < cls);
      if (unblocked)
        if (char32_t composite = compose(tables, out[starter], c)) {
          out[starter] = composite;
          continue;
        }
    }
    if (cls == 0) {
      starter = out.size();
      lastClass = 0;
    } else {
      lastClass = cls;
    }
    out += c;
  }
  return toUtf8(out);
}
