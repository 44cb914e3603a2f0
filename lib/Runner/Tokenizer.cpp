//===- Tokenizer.cpp - bytes and Hugging Face tokenizer.json BPE ----------===//
//
// A tokenizer.json is read into a pipeline that mirrors the Hugging Face
// tokenizers library (Rust): split off the added tokens, normalize the rest,
// pre-tokenize it into words, run BPE on each word; decode runs the
// decoder's steps on the tokens' strings. Each component type the file names
// must be one implemented here, with options implemented here, or loading
// fails with the component and the file named.
//
// The pre-tokenizer regexes of GPT-2, Llama-3 and Qwen2 are recognized by
// their exact text and implemented by hand (matchPattern), with the Unicode
// categories of Unicode.h; no regex engine.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Tokenizer.h"

#include "Unicode.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>
#include <unordered_map>

using namespace qrun;
using json = nlohmann::json;

Tokenizer::~Tokenizer() = default;

//===----------------------------------------------------------------------===//
// Bytes
//===----------------------------------------------------------------------===//

std::string ByteTokenizer::encode(const std::string &text,
                                  std::vector<int64_t> &ids) const {
  for (unsigned char c : text)
    ids.push_back(c);
  return "";
}

std::string ByteTokenizer::decode(const std::vector<int64_t> &ids) const {
  std::string text;
  for (int64_t id : ids)
    if (id >= 0 && id < 256)
      text += static_cast<char>(id);
  return text;
}

int64_t ByteTokenizer::tokenId(const std::string &token) const {
  return token.size() == 1 ? static_cast<unsigned char>(token[0]) : -1;
}

namespace {

//===----------------------------------------------------------------------===//
// The pre-tokenizer regexes
//===----------------------------------------------------------------------===//

enum class Pattern { GPT2, Llama3, Qwen2 };

/// The regexes, exactly as tokenizer.json files write them. GPT-2's is also
/// the one the ByteLevel pre-tokenizer applies with use_regex.
const char *const kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char *const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *const kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

bool isLetter(char32_t c) { return unicode::isLetter(c); }
bool isNumber(char32_t c) { return unicode::isNumber(c); }
bool isSpace(char32_t c) { return unicode::isWhiteSpace(c); }
/// [^\s\p{L}\p{N}]
bool isOther(char32_t c) { return !isSpace(c) && !isLetter(c) && !isNumber(c); }
bool isNewline(char32_t c) { return c == '\r' || c == '\n'; }

/// Simple case folding of the letters of the contractions: what (?i:...)
/// lets match s, t, r, e, v, m, l, d (U+017F LATIN SMALL LETTER LONG S
/// folds to s).
char32_t foldContraction(char32_t c) {
  if (c >= 'A' && c <= 'Z')
    return c + ('a' - 'A');
  if (c == 0x17F)
    return 's';
  return c;
}

/// The length of the contraction at s[i] ('s 't 're 've 'm 'll 'd), or 0.
size_t contraction(const std::u32string &s, size_t i, bool ignoreCase) {
  size_t n = s.size();
  if (s[i] != '\'' || i + 1 >= n)
    return 0;
  auto fold = [&](char32_t c) { return ignoreCase ? foldContraction(c) : c; };
  char32_t a = fold(s[i + 1]);
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  if (i + 2 >= n)
    return 0;
  char32_t b = fold(s[i + 2]);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
      (a == 'l' && b == 'l'))
    return 3;
  return 0;
}

/// The end of the regex's match at s[i] (the regexes match at every
/// position, so the matches partition the text, as a Split with behavior
/// Isolated yields them).
size_t matchPattern(Pattern pattern, const std::u32string &s, size_t i) {
  size_t n = s.size();
  char32_t c = s[i];
  size_t j;
  auto spanWhile = [&](size_t from, bool (*pred)(char32_t)) {
    while (from < n && pred(s[from]))
      ++from;
    return from;
  };
  if (pattern == Pattern::GPT2) {
    // 's|'t|'re|'ve|'m|'ll|'d
    if (size_t length = contraction(s, i, false))
      return i + length;
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
    j = c == ' ' ? i + 1 : i;
    if (j < n && isLetter(s[j]))
      return spanWhile(j, isLetter);
    if (j < n && isNumber(s[j]))
      return spanWhile(j, isNumber);
    if (j < n && isOther(s[j]))
      return spanWhile(j, isOther);
  } else {
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (size_t length = contraction(s, i, true))
      return i + length;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    j = !isNewline(c) && !isLetter(c) && !isNumber(c) ? i + 1 : i;
    if (j < n && isLetter(s[j]))
      return spanWhile(j, isLetter);
    if (isLetter(c))
      return spanWhile(i, isLetter);
    // \p{N}{1,3} (Llama-3), \p{N} (Qwen2)
    if (isNumber(c)) {
      size_t most = pattern == Pattern::Llama3 ? 3 : 1;
      j = i + 1;
      while (j < n && j - i < most && isNumber(s[j]))
        ++j;
      return j;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    j = c == ' ' ? i + 1 : i;
    if (j < n && isOther(s[j]))
      return spanWhile(spanWhile(j, isOther), isNewline);
    // \s*[\r\n]+: through the last newline of the whitespace here.
    if (isSpace(c)) {
      size_t end = spanWhile(i, isSpace);
      for (size_t k = end; k > i; --k)
        if (isNewline(s[k - 1]))
          return k;
    }
  }
  // \s+(?!\S): the whitespace but its last character when a non-space
  // follows; \s+: a single whitespace character before a non-space.
  if (isSpace(c)) {
    size_t end = spanWhile(i, isSpace);
    if (end == n || end - i == 1)
      return end;
    return end - 1;
  }
  return i + 1; // unreachable: every character is one of the classes
}

//===----------------------------------------------------------------------===//
// The pipeline's parts
//===----------------------------------------------------------------------===//

struct AddedToken {
  std::string content;
  int64_t id = -1;
  bool lstrip = false, rstrip = false, normalized = false;
};

/// Finds added tokens in a text: the leftmost match, the longest there.
class AddedMatcher {
public:
  void add(const AddedToken *token) {
    if (!token->content.empty())
      byFirstByte[static_cast<unsigned char>(token->content[0])].push_back(
          token);
  }
  void finish() {
    for (auto &list : byFirstByte)
      std::sort(list.begin(), list.end(),
                [](const AddedToken *a, const AddedToken *b) {
                  if (a->content.size() != b->content.size())
                    return a->content.size() > b->content.size();
                  return a->id < b->id;
                });
  }
  bool empty() const {
    for (const auto &list : byFirstByte)
      if (!list.empty())
        return false;
    return true;
  }
  const AddedToken *at(const std::string &text, size_t pos) const {
    for (const AddedToken *token :
         byFirstByte[static_cast<unsigned char>(text[pos])])
      if (text.compare(pos, token->content.size(), token->content) == 0)
        return token;
    return nullptr;
  }

private:
  std::vector<const AddedToken *> byFirstByte[256];
};

/// A part of the text: plain text, or an added token (id >= 0).
struct Segment {
  std::string text;
  int64_t id = -1;
  /// It begins at the start of the original text.
  bool atStart = false;
};

/// The whitespace character that ends text[from, to), its length, or 0.
size_t trailingSpace(const std::string &text, size_t from, size_t to) {
  if (to <= from)
    return 0;
  size_t start = to - 1;
  while (start > from &&
         (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
    --start;
  size_t at = start;
  char32_t code;
  if (unicode::decodeUtf8(text, at, code) && at == to &&
      unicode::isWhiteSpace(code))
    return to - start;
  return 0;
}

void splitAdded(const Segment &segment, const AddedMatcher &matcher,
                std::vector<Segment> &out) {
  const std::string &text = segment.text;
  size_t n = text.size(), pos = 0, plain = 0;
  auto emitPlain = [&](size_t end) {
    if (end > plain)
      out.push_back(
          {text.substr(plain, end - plain), -1, segment.atStart && plain == 0});
  };
  while (pos < n) {
    const AddedToken *token = matcher.at(text, pos);
    if (!token) {
      ++pos;
      continue;
    }
    size_t start = pos, end = pos + token->content.size();
    if (token->lstrip)
      while (size_t length = trailingSpace(text, plain, start))
        start -= length;
    if (token->rstrip) {
      size_t at = end;
      char32_t code;
      while (at < n && unicode::decodeUtf8(text, at, code) &&
             unicode::isWhiteSpace(code))
        end = at;
    }
    emitPlain(start);
    out.push_back({text.substr(start, end - start), token->id,
                   segment.atStart && start == 0});
    pos = plain = end;
  }
  emitPlain(n);
}

struct NormalizerStep {
  enum Kind { NFC, Prepend, Replace } kind;
  std::string text, with;
};

struct PreTokenizerStep {
  enum Kind { Split, ByteLevel, Metaspace } kind;
  Pattern pattern = Pattern::GPT2;
  bool addPrefixSpace = false, useRegex = false;
  char32_t replacement = 0x2581;
  enum Scheme { Always, First, Never } scheme = Always;
  bool split = true;
};

struct DecoderStep {
  enum Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind;
  std::string text, with;
  char32_t content = 0;
  int64_t start = 0, stop = 0;
  bool prependScheme = true; // Metaspace: drop the first token's ▁
};

/// `text` with every `from` (not empty) replaced by `to`.
std::string replaceAll(const std::string &text, const std::string &from,
                       const std::string &to) {
  std::string out;
  size_t at = 0;
  while (true) {
    size_t found = text.find(from, at);
    if (found == std::string::npos)
      break;
    out.append(text, at, found - at);
    out += to;
    at = found + from.size();
  }
  out.append(text, at, std::string::npos);
  return out;
}

/// A word of the pre-tokenizer, in code points.
struct Piece {
  std::u32string text;
  bool atStart = false;
};

/// GPT-2's bytes_to_unicode: the printable bytes stand for themselves, the
/// others for 256 + their rank.
struct ByteChars {
  char32_t byteToChar[256];
  std::unordered_map<char32_t, unsigned char> charToByte;
  ByteChars() {
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) ||
                       (b >= 174 && b <= 255);
      byteToChar[b] = printable ? b : 256 + extra++;
      charToByte[byteToChar[b]] = static_cast<unsigned char>(b);
    }
  }
};

const ByteChars &byteChars() {
  static const ByteChars chars;
  return chars;
}

//===----------------------------------------------------------------------===//
// tokenizer.json
//===----------------------------------------------------------------------===//

class HuggingFaceTokenizer : public Tokenizer {
public:
  std::string load(const std::string &path);

  std::string encode(const std::string &text,
                     std::vector<int64_t> &ids) const override;
  std::string decode(const std::vector<int64_t> &ids) const override;
  int64_t vocabSize() const override { return size; }
  int64_t tokenId(const std::string &token) const override;
  std::string describe() const override {
    return path + " (" + (byteLevel ? "byte-level BPE" : "BPE") + ", " +
           std::to_string(size) + " tokens)";
  }

private:
  std::string path;
  int64_t size = 0;

  // The model.
  std::unordered_map<std::string, int64_t> vocab;
  std::vector<std::string> idToToken;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  bool byteFallback = false, fuseUnk = false, ignoreMerges = false;
  int64_t unkId = -1;
  int64_t byteFallbackIds[256];
  int64_t byteLevelIds[256];

  // Added tokens.
  std::vector<AddedToken> added;
  std::unordered_map<int64_t, std::string> addedById;
  AddedMatcher rawMatcher, normalizedMatcher;

  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> preTokenizer;
  bool byteLevel = false;
  bool hasDecoder = false;
  std::vector<DecoderStep> decoder;

  // Words already encoded.
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache;

  std::string unsupported(const std::string &what) const {
    return path + ": unsupported tokenizer feature: " + what;
  }
  std::string parseModel(const json &model);
  std::string parseAddedTokens(const json &tokens);
  std::string parseNormalizer(const json &node);
  std::string parsePreTokenizer(const json &node);
  std::string parsePostProcessor(const json &node);
  std::string parseDecoder(const json &node);
  void readConfig();

  std::string normalize(const std::string &text) const;
  void preTokenize(const Segment &segment, std::vector<Piece> &pieces) const;
  std::string encodeWord(const Piece &piece, std::vector<int64_t> &ids) const;
  std::string initialSymbols(const std::string &word,
                             std::vector<int64_t> &symbols) const;
  void mergeAll(std::vector<int64_t> &symbols) const;
  const std::pair<int32_t, int32_t> *findMerge(int64_t a, int64_t b) const {
    auto it = merges.find((static_cast<uint64_t>(a) << 32) |
                          static_cast<uint32_t>(b));
    return it == merges.end() ? nullptr : &it->second;
  }
};

std::string typeOf(const json &node) {
  if (!node.is_object() || !node.contains("type") || !node["type"].is_string())
    return "";
  return node["type"].get<std::string>();
}

/// A {"String": s} pattern's string; false for {"Regex": ...}.
bool stringPattern(const json &pattern, std::string &out) {
  if (pattern.is_object() && pattern.contains("String") &&
      pattern["String"].is_string()) {
    out = pattern["String"].get<std::string>();
    return true;
  }
  return false;
}

std::string patternText(const json &pattern) {
  return pattern.is_object() && !pattern.empty() ? pattern.dump()
                                                 : std::string("?");
}

bool boolField(const json &node, const char *key, bool fallback) {
  return node.contains(key) && node[key].is_boolean() ? node[key].get<bool>()
                                                      : fallback;
}

/// A one-character string field.
bool charField(const json &node, const char *key, char32_t &out) {
  if (!node.contains(key) || !node[key].is_string())
    return false;
  std::u32string text = unicode::toUtf32(node[key].get<std::string>());
  if (text.size() != 1)
    return false;
  out = text[0];
  return true;
}

std::string HuggingFaceTokenizer::parseModel(const json &model) {
  std::string type = typeOf(model);
  if (type.empty() && model.is_object() && model.contains("merges"))
    type = "BPE";
  if (type != "BPE")
    return unsupported("model type '" + (type.empty() ? "?" : type) +
                       "' (only BPE is implemented)");
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      !(model["dropout"].is_number() && model["dropout"].get<double>() == 0))
    return unsupported("BPE dropout (it makes encoding random)");
  for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && !model[key].is_null() &&
        !(model[key].is_string() && model[key].get<std::string>().empty()))
      return unsupported(std::string("BPE ") + key + " '" + model[key].dump() +
                         "'");
  byteFallback = boolField(model, "byte_fallback", false);
  fuseUnk = boolField(model, "fuse_unk", false);
  ignoreMerges = boolField(model, "ignore_merges", false);

  const json &vocabNode = model.at("vocab");
  if (!vocabNode.is_object())
    return path + ": model.vocab is not an object";
  int64_t largest = -1;
  vocab.reserve(vocabNode.size());
  for (auto it = vocabNode.begin(); it != vocabNode.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
      return path + ": model.vocab['" + it.key() + "'] is not a token id";
    int64_t id = it.value().get<int64_t>();
    vocab[it.key()] = id;
    largest = std::max(largest, id);
  }
  if (largest >= (int64_t(1) << 31))
    return path + ": token id " + std::to_string(largest) + " is too large";
  idToToken.assign(static_cast<size_t>(largest + 1), std::string());
  for (const auto &[token, id] : vocab)
    idToToken[static_cast<size_t>(id)] = token;
  size = largest + 1;

  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = vocab.find(model["unk_token"].get<std::string>());
    if (it == vocab.end())
      return path + ": the unk_token " + model["unk_token"].dump() +
             " is not in the vocabulary";
    unkId = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab.find(name);
    byteFallbackIds[b] = it == vocab.end() ? -1 : it->second;
  }

  const json &mergesNode = model.at("merges");
  if (!mergesNode.is_array())
    return path + ": model.merges is not an array";
  merges.reserve(mergesNode.size());
  int32_t rank = 0;
  for (const json &merge : mergesNode) {
    std::string a, b;
    if (merge.is_string()) {
      // "a b", split at the first space (as tokenizers does).
      const std::string &text = merge.get_ref<const std::string &>();
      size_t space = text.find(' ');
      if (space == std::string::npos)
        return path + ": merge " + merge.dump() + " is not \"a b\"";
      a = text.substr(0, space);
      b = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      a = merge[0].get<std::string>();
      b = merge[1].get<std::string>();
    } else {
      return path + ": merge " + merge.dump() +
             " is neither \"a b\" nor [\"a\", \"b\"]";
    }
    auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || iab == vocab.end())
      return path + ": merge " + merge.dump() +
             " has a part or a result that is not in the vocabulary";
    // A later duplicate replaces an earlier one, as in tokenizers.
    merges[(static_cast<uint64_t>(ia->second) << 32) |
           static_cast<uint32_t>(ib->second)] = {
        rank++, static_cast<int32_t>(iab->second)};
  }
  return "";
}

std::string HuggingFaceTokenizer::parseAddedTokens(const json &tokens) {
  if (tokens.is_null())
    return "";
  if (!tokens.is_array())
    return path + ": added_tokens is not an array";
  for (const json &node : tokens) {
    AddedToken token;
    if (!node.is_object() || !node.contains("id") ||
        !node["id"].is_number_integer() || node["id"].get<int64_t>() < 0 ||
        !node.contains("content") || !node["content"].is_string())
      return path + ": added token " + node.dump() +
             " needs an id and a content";
    token.id = node["id"].get<int64_t>();
    token.content = node["content"].get<std::string>();
    if (token.content.empty())
      return path + ": added token " + std::to_string(token.id) + " is empty";
    if (boolField(node, "single_word", false))
      return unsupported("added token " + node["content"].dump() +
                         " with single_word");
    token.lstrip = boolField(node, "lstrip", false);
    token.rstrip = boolField(node, "rstrip", false);
    token.normalized = boolField(node, "normalized", false);
    if (token.id >= (int64_t(1) << 31))
      return path + ": added token id " + std::to_string(token.id) +
             " is too large";
    size = std::max(size, token.id + 1);
    addedById[token.id] = token.content;
    added.push_back(token);
  }
  return "";
}

std::string HuggingFaceTokenizer::parseNormalizer(const json &node) {
  if (node.is_null())
    return "";
  std::string type = typeOf(node);
  if (type == "Sequence") {
    if (!node.contains("normalizers") || !node["normalizers"].is_array())
      return path + ": a Sequence normalizer needs \"normalizers\"";
    for (const json &child : node["normalizers"])
      if (std::string error = parseNormalizer(child); !error.empty())
        return error;
    return "";
  }
  if (type == "NFC") {
    normalizer.push_back({NormalizerStep::NFC, "", ""});
    return "";
  }
  if (type == "Prepend") {
    if (!node.contains("prepend") || !node["prepend"].is_string())
      return path + ": a Prepend normalizer needs \"prepend\"";
    normalizer.push_back(
        {NormalizerStep::Prepend, node["prepend"].get<std::string>(), ""});
    return "";
  }
  if (type == "Replace") {
    std::string from;
    if (!node.contains("pattern") || !stringPattern(node["pattern"], from))
      return unsupported("Replace normalizer with the pattern " +
                         patternText(node.value("pattern", json())) +
                         " (only {\"String\": ...} patterns are implemented)");
    if (from.empty() || !node.contains("content") ||
        !node["content"].is_string())
      return path + ": a Replace normalizer needs a pattern and a content";
    normalizer.push_back(
        {NormalizerStep::Replace, from, node["content"].get<std::string>()});
    return "";
  }
  return unsupported("normalizer '" + (type.empty() ? node.dump() : type) +
                     "' (implemented: NFC, Prepend, Replace, Sequence)");
}

std::string HuggingFaceTokenizer::parsePreTokenizer(const json &node) {
  if (node.is_null())
    return "";
  std::string type = typeOf(node);
  if (byteLevel)
    return unsupported("pre-tokenizer '" + type +
                       "' after ByteLevel (ByteLevel must come last)");
  if (type == "Sequence") {
    if (!node.contains("pretokenizers") || !node["pretokenizers"].is_array())
      return path + ": a Sequence pre-tokenizer needs \"pretokenizers\"";
    for (const json &child : node["pretokenizers"])
      if (std::string error = parsePreTokenizer(child); !error.empty())
        return error;
    return "";
  }
  PreTokenizerStep step;
  if (type == "Split") {
    step.kind = PreTokenizerStep::Split;
    const json pattern = node.value("pattern", json());
    std::string regex;
    if (pattern.is_object() && pattern.contains("Regex") &&
        pattern["Regex"].is_string())
      regex = pattern["Regex"].get<std::string>();
    if (regex == kGpt2Regex)
      step.pattern = Pattern::GPT2;
    else if (regex == kLlama3Regex)
      step.pattern = Pattern::Llama3;
    else if (regex == kQwen2Regex)
      step.pattern = Pattern::Qwen2;
    else
      return unsupported(
          "Split pre-tokenizer pattern " + patternText(pattern) +
          " (implemented: the regexes of GPT-2, Llama-3 and Qwen2)");
    std::string behavior = node.value("behavior", std::string("?"));
    if (behavior != "Isolated" || boolField(node, "invert", false))
      return unsupported("Split pre-tokenizer with behavior '" + behavior +
                         "'" +
                         (boolField(node, "invert", false) ? " inverted" : "") +
                         " (implemented: Isolated, not inverted)");
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::ByteLevel;
    step.addPrefixSpace = boolField(node, "add_prefix_space", true);
    step.useRegex = boolField(node, "use_regex", true);
    byteLevel = true;
  } else if (type == "Metaspace") {
    step.kind = PreTokenizerStep::Metaspace;
    if (node.contains("replacement") &&
        !charField(node, "replacement", step.replacement))
      return path + ": Metaspace's replacement must be one character";
    std::string scheme = node.value("prepend_scheme", std::string());
    if (scheme.empty())
      scheme = boolField(node, "add_prefix_space", true) ? "always" : "never";
    if (scheme == "always")
      step.scheme = PreTokenizerStep::Always;
    else if (scheme == "first")
      step.scheme = PreTokenizerStep::First;
    else if (scheme == "never")
      step.scheme = PreTokenizerStep::Never;
    else
      return unsupported("Metaspace prepend_scheme '" + scheme + "'");
    step.split = boolField(node, "split", true);
  } else {
    return unsupported("pre-tokenizer '" + (type.empty() ? node.dump() : type) +
                       "' (implemented: ByteLevel, Split, Metaspace, "
                       "Sequence)");
  }
  preTokenizer.push_back(step);
  return "";
}

std::string HuggingFaceTokenizer::parsePostProcessor(const json &node) {
  if (node.is_null())
    return "";
  std::string type = typeOf(node);
  if (type == "ByteLevel")
    return ""; // offsets only
  if (type == "Sequence") {
    if (!node.contains("processors") || !node["processors"].is_array())
      return path + ": a Sequence post-processor needs \"processors\"";
    for (const json &child : node["processors"])
      if (std::string error = parsePostProcessor(child); !error.empty())
        return error;
    return "";
  }
  if (type != "TemplateProcessing")
    return unsupported("post-processor '" +
                       (type.empty() ? node.dump() : type) +
                       "' (implemented: TemplateProcessing, ByteLevel, "
                       "Sequence)");
  if (!node.contains("single") || !node["single"].is_array())
    return path + ": TemplateProcessing needs \"single\"";
  std::vector<int64_t> before, after;
  bool seen = false;
  for (const json &item : node["single"]) {
    if (item.contains("Sequence")) {
      if (seen || item["Sequence"].value("id", std::string()) != "A")
        return unsupported("TemplateProcessing single template " +
                           node["single"].dump());
      seen = true;
    } else if (item.contains("SpecialToken")) {
      std::string name = item["SpecialToken"].value("id", std::string());
      const json &specials = node.value("special_tokens", json::object());
      if (!specials.contains(name) || !specials[name].contains("ids") ||
          !specials[name]["ids"].is_array())
        return path + ": TemplateProcessing names the special token '" + name +
               "' without its ids";
      for (const json &id : specials[name]["ids"]) {
        if (!id.is_number_integer())
          return path + ": special token '" + name + "' has a bad id";
        (seen ? after : before).push_back(id.get<int64_t>());
      }
    } else {
      return path + ": TemplateProcessing has the item " + item.dump();
    }
  }
  if (!seen)
    return unsupported("TemplateProcessing without $A in its single template");
  prefixIds.insert(prefixIds.begin(), before.begin(), before.end());
  suffixIds.insert(suffixIds.end(), after.begin(), after.end());
  return "";
}

std::string HuggingFaceTokenizer::parseDecoder(const json &node) {
  if (node.is_null())
    return "";
  hasDecoder = true;
  std::string type = typeOf(node);
  DecoderStep step;
  if (type == "Sequence") {
    if (!node.contains("decoders") || !node["decoders"].is_array())
      return path + ": a Sequence decoder needs \"decoders\"";
    for (const json &child : node["decoders"])
      if (std::string error = parseDecoder(child); !error.empty())
        return error;
    return "";
  }
  if (type == "ByteLevel") {
    step.kind = DecoderStep::ByteLevel;
  } else if (type == "ByteFallback") {
    step.kind = DecoderStep::ByteFallback;
  } else if (type == "Fuse") {
    step.kind = DecoderStep::Fuse;
  } else if (type == "Replace") {
    step.kind = DecoderStep::Replace;
    if (!node.contains("pattern") || !stringPattern(node["pattern"], step.text))
      return unsupported("Replace decoder with the pattern " +
                         patternText(node.value("pattern", json())));
    if (step.text.empty() || !node.contains("content") ||
        !node["content"].is_string())
      return path + ": a Replace decoder needs a pattern and a content";
    step.with = node["content"].get<std::string>();
  } else if (type == "Strip") {
    step.kind = DecoderStep::Strip;
    if (!charField(node, "content", step.content))
      return path + ": a Strip decoder needs a one-character content";
    step.start = node.value("start", int64_t(0));
    step.stop = node.value("stop", int64_t(0));
  } else if (type == "Metaspace") {
    step.kind = DecoderStep::Metaspace;
    step.content = 0x2581;
    if (node.contains("replacement") &&
        !charField(node, "replacement", step.content))
      return path + ": Metaspace's replacement must be one character";
    std::string scheme = node.value("prepend_scheme", std::string());
    if (scheme.empty())
      scheme = boolField(node, "add_prefix_space", true) ? "always" : "never";
    step.prependScheme = scheme != "never";
  } else {
    return unsupported("decoder '" + (type.empty() ? node.dump() : type) +
                       "' (implemented: ByteLevel, Metaspace, Replace, "
                       "ByteFallback, Fuse, Strip, Sequence)");
  }
  decoder.push_back(step);
  return "";
}

void HuggingFaceTokenizer::readConfig() {
  size_t slash = path.rfind('/');
  std::string config =
      (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) +
      "tokenizer_config.json";
  std::ifstream in(config);
  if (!in)
    return;
  json node = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!node.is_object())
    return;
  auto idOf = [&](const char *key) -> int64_t {
    if (!node.contains(key))
      return -1;
    const json &value = node[key];
    if (value.is_string())
      return tokenId(value.get<std::string>());
    if (value.is_object() && value.contains("content") &&
        value["content"].is_string())
      return tokenId(value["content"].get<std::string>());
    return -1;
  };
  bosId = idOf("bos_token");
  eosId = idOf("eos_token");
}

std::string HuggingFaceTokenizer::load(const std::string &path) {
  this->path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return "cannot read the tokenizer '" + path + "'";
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception &e) {
    return path + ": not a tokenizer.json (" + e.what() + ")";
  }
  if (!root.is_object() || !root.contains("model"))
    return path + ": not a tokenizer.json (no \"model\")";
  try {
    if (std::string error = parseModel(root["model"]); !error.empty())
      return error;
    if (std::string error =
            parseAddedTokens(root.value("added_tokens", json()));
        !error.empty())
      return error;
    if (std::string error = parseNormalizer(root.value("normalizer", json()));
        !error.empty())
      return error;
    if (std::string error =
            parsePreTokenizer(root.value("pre_tokenizer", json()));
        !error.empty())
      return error;
    if (std::string error =
            parsePostProcessor(root.value("post_processor", json()));
        !error.empty())
      return error;
    if (std::string error = parseDecoder(root.value("decoder", json()));
        !error.empty())
      return error;
  } catch (const json::exception &e) {
    return path + ": unexpected tokenizer.json content (" + e.what() + ")";
  }
  for (int64_t id : prefixIds)
    if (id < 0 || id >= size)
      return path + ": the post-processor adds the token id " +
             std::to_string(id) + ", which is not in the vocabulary";
  for (const AddedToken &token : added)
    (token.normalized && !normalizer.empty() ? normalizedMatcher : rawMatcher)
        .add(&token);
  rawMatcher.finish();
  normalizedMatcher.finish();
  const ByteChars &chars = byteChars();
  for (int b = 0; b < 256; ++b) {
    std::string name;
    unicode::appendUtf8(chars.byteToChar[b], name);
    auto it = vocab.find(name);
    byteLevelIds[b] = it == vocab.end() ? -1 : it->second;
  }
  readConfig();
  return "";
}

int64_t HuggingFaceTokenizer::tokenId(const std::string &token) const {
  for (const AddedToken &a : added)
    if (a.content == token)
      return a.id;
  auto it = vocab.find(token);
  return it == vocab.end() ? -1 : it->second;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

std::string HuggingFaceTokenizer::normalize(const std::string &text) const {
  std::string out = text;
  for (const NormalizerStep &step : normalizer) {
    switch (step.kind) {
    case NormalizerStep::NFC:
      out = unicode::nfc(out);
      break;
    case NormalizerStep::Prepend:
      if (!out.empty())
        out = step.text + out;
      break;
    case NormalizerStep::Replace:
      out = replaceAll(out, step.text, step.with);
      break;
    }
  }
  return out;
}

void HuggingFaceTokenizer::preTokenize(const Segment &segment,
                                       std::vector<Piece> &pieces) const {
  pieces.clear();
  pieces.push_back({unicode::toUtf32(segment.text), segment.atStart});
  std::vector<Piece> next;
  for (const PreTokenizerStep &step : preTokenizer) {
    next.clear();
    for (Piece &piece : pieces) {
      std::u32string &s = piece.text;
      if (s.empty())
        continue;
      auto splitBy = [&](Pattern pattern) {
        bool first = true;
        for (size_t i = 0; i < s.size();) {
          size_t end = matchPattern(pattern, s, i);
          next.push_back({s.substr(i, end - i), piece.atStart && first});
          first = false;
          i = end;
        }
      };
      switch (step.kind) {
      case PreTokenizerStep::Split:
        splitBy(step.pattern);
        break;
      case PreTokenizerStep::ByteLevel:
        if (step.addPrefixSpace && s[0] != ' ')
          s.insert(s.begin(), U' ');
        if (step.useRegex)
          splitBy(Pattern::GPT2);
        else
          next.push_back(std::move(piece));
        break;
      case PreTokenizerStep::Metaspace: {
        for (char32_t &c : s)
          if (c == ' ')
            c = step.replacement;
        bool prepend =
            s[0] != step.replacement &&
            (step.scheme == PreTokenizerStep::Always ||
             (step.scheme == PreTokenizerStep::First && piece.atStart));
        if (prepend)
          s.insert(s.begin(), step.replacement);
        if (!step.split) {
          next.push_back(std::move(piece));
          break;
        }
        // Each replacement starts a new piece (MergedWithNext).
        size_t start = 0;
        for (size_t i = 1; i <= s.size(); ++i)
          if (i == s.size() || s[i] == step.replacement) {
            next.push_back(
                {s.substr(start, i - start), piece.atStart && start == 0});
            start = i;
          }
        break;
      }
      }
    }
    pieces.swap(next);
  }
}

std::string
HuggingFaceTokenizer::initialSymbols(const std::string &word,
                                     std::vector<int64_t> &symbols) const {
  symbols.clear();
  int64_t pendingUnk = -1; // fused unknown characters
  auto flushUnk = [&] {
    if (pendingUnk >= 0)
      symbols.push_back(pendingUnk);
    pendingUnk = -1;
  };
  auto unknown = [&](const std::string &what) -> std::string {
    if (unkId < 0)
      return "the vocabulary has no token for " + what +
             " and the tokenizer no unk_token";
    if (!fuseUnk)
      flushUnk();
    pendingUnk = unkId;
    return "";
  };
  if (byteLevel) {
    for (unsigned char b : word) {
      if (byteLevelIds[b] >= 0) {
        flushUnk();
        symbols.push_back(byteLevelIds[b]);
      } else {
        char what[32];
        snprintf(what, sizeof what, "the byte 0x%02X", b);
        if (std::string error = unknown(what); !error.empty())
          return error;
      }
    }
    flushUnk();
    return "";
  }
  size_t at = 0;
  while (at < word.size()) {
    size_t start = at;
    char32_t code;
    unicode::decodeUtf8(word, at, code);
    auto it = vocab.find(word.substr(start, at - start));
    if (it != vocab.end()) {
      flushUnk();
      symbols.push_back(it->second);
      continue;
    }
    if (byteFallback) {
      bool all = true;
      for (size_t i = start; i < at; ++i)
        all = all && byteFallbackIds[static_cast<unsigned char>(word[i])] >= 0;
      if (all) {
        flushUnk();
        for (size_t i = start; i < at; ++i)
          symbols.push_back(
              byteFallbackIds[static_cast<unsigned char>(word[i])]);
        continue;
      }
    }
    char what[32];
    snprintf(what, sizeof what, "U+%04X", static_cast<unsigned>(code));
    if (std::string error = unknown(what); !error.empty())
      return error;
  }
  flushUnk();
  return "";
}

void HuggingFaceTokenizer::mergeAll(std::vector<int64_t> &symbols) const {
  // The priority-merge loop of tokenizers' Word::merge_all: always merge the
  // pair of lowest rank, the leftmost among equals; O(n log n) per word.
  size_t n = symbols.size();
  if (n < 2)
    return;
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t newId;
    bool operator<(const Candidate &other) const {
      // std::priority_queue pops the largest: the lowest rank, then pos.
      return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
  };
  std::vector<int32_t> prev(n), next(n);
  std::vector<char> alive(n, 1);
  std::priority_queue<Candidate> queue;
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    if (i + 1 < n)
      if (const auto *m = findMerge(symbols[i], symbols[i + 1]))
        queue.push({m->first, static_cast<int32_t>(i), m->second});
  }
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0)
      continue;
    int32_t right = next[top.pos];
    const auto *m = findMerge(symbols[top.pos], symbols[right]);
    if (!m || m->second != top.newId)
      continue; // stale: a neighbour has changed
    symbols[top.pos] = top.newId;
    alive[right] = 0;
    next[top.pos] = next[right];
    if (next[right] >= 0)
      prev[next[right]] = top.pos;
    if (prev[top.pos] >= 0)
      if (const auto *p = findMerge(symbols[prev[top.pos]], symbols[top.pos]))
        queue.push({p->first, prev[top.pos], p->second});
    if (next[top.pos] >= 0)
      if (const auto *p = findMerge(symbols[top.pos], symbols[next[top.pos]]))
        queue.push({p->first, top.pos, p->second});
  }
  size_t out = 0;
  for (size_t i = 0; i < n; ++i)
    if (alive[i])
      symbols[out++] = symbols[i];
  symbols.resize(out);
}

std::string HuggingFaceTokenizer::encodeWord(const Piece &piece,
                                             std::vector<int64_t> &ids) const {
  std::string word = unicode::toUtf8(piece.text);
  // Short words repeat; long ones (a whole line for a tokenizer without a
  // pre-tokenizer) rarely do.
  bool cacheable = word.size() <= 256;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache.find(word);
    if (it != cache.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return "";
    }
  }
  std::vector<int64_t> symbols;
  bool whole = false;
  if (ignoreMerges) {
    std::string key;
    if (byteLevel) {
      for (unsigned char b : word)
        unicode::appendUtf8(byteChars().byteToChar[b], key);
    } else {
      key = word;
    }
    auto it = vocab.find(key);
    if (it != vocab.end()) {
      symbols.push_back(it->second);
      whole = true;
    }
  }
  if (!whole) {
    if (std::string error = initialSymbols(word, symbols); !error.empty())
      return error;
    mergeAll(symbols);
  }
  ids.insert(ids.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    if (cache.size() >= 100000)
      cache.clear();
    cache.emplace(std::move(word), std::move(symbols));
  }
  return "";
}

std::string HuggingFaceTokenizer::encode(const std::string &text,
                                         std::vector<int64_t> &ids) const {
  size_t bad = unicode::invalidUtf8Offset(text);
  if (bad != std::string::npos)
    return "the text is not valid UTF-8 (at byte " + std::to_string(bad) + ")";
  std::vector<Segment> segments, normalized;
  Segment whole{text, -1, true};
  if (rawMatcher.empty())
    segments.push_back(whole);
  else
    splitAdded(whole, rawMatcher, segments);
  std::vector<Piece> pieces;
  for (const Segment &segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    Segment norm{normalize(segment.text), -1, segment.atStart};
    normalized.clear();
    if (normalizedMatcher.empty())
      normalized.push_back(std::move(norm));
    else
      splitAdded(norm, normalizedMatcher, normalized);
    for (const Segment &part : normalized) {
      if (part.id >= 0) {
        ids.push_back(part.id);
        continue;
      }
      preTokenize(part, pieces);
      for (const Piece &piece : pieces)
        if (!piece.text.empty())
          if (std::string error = encodeWord(piece, ids); !error.empty())
            return error;
    }
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

std::string
HuggingFaceTokenizer::decode(const std::vector<int64_t> &ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    auto it = addedById.find(id);
    if (it != addedById.end())
      tokens.push_back(it->second);
    else if (id >= 0 && id < static_cast<int64_t>(idToToken.size()) &&
             !idToToken[static_cast<size_t>(id)].empty())
      tokens.push_back(idToToken[static_cast<size_t>(id)]);
  }
  if (!hasDecoder) {
    std::string text;
    for (size_t i = 0; i < tokens.size(); ++i)
      text += (i ? " " : "") + tokens[i];
    return text;
  }
  const ByteChars &chars = byteChars();
  std::vector<std::string> next;
  for (const DecoderStep &step : decoder) {
    next.clear();
    switch (step.kind) {
    case DecoderStep::ByteLevel: {
      // Each token's characters back to bytes (a token with a character
      // outside the byte map, e.g. an added token, gives its own UTF-8),
      // then all the bytes as UTF-8 with U+FFFD for invalid sequences.
      std::string bytes;
      for (const std::string &token : tokens) {
        std::string mapped;
        size_t at = 0;
        char32_t code;
        bool all = true;
        while (at < token.size() && all) {
          all = unicode::decodeUtf8(token, at, code);
          auto it = all ? chars.charToByte.find(code) : chars.charToByte.end();
          all = it != chars.charToByte.end();
          if (all)
            mapped += static_cast<char>(it->second);
        }
        bytes += all ? mapped : token;
      }
      next.push_back(unicode::lossyUtf8(bytes));
      break;
    }
    case DecoderStep::Replace:
      for (const std::string &token : tokens)
        next.push_back(replaceAll(token, step.text, step.with));
      break;
    case DecoderStep::ByteFallback: {
      std::string pending;
      auto flush = [&] {
        if (pending.empty())
          return;
        if (unicode::invalidUtf8Offset(pending) == std::string::npos)
          next.push_back(pending);
        else
          for (size_t i = 0; i < pending.size(); ++i)
            next.push_back("\xEF\xBF\xBD");
        pending.clear();
      };
      for (const std::string &token : tokens) {
        unsigned value;
        char close;
        if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 &&
            token[5] == '>' && isxdigit(static_cast<unsigned char>(token[3])) &&
            isxdigit(static_cast<unsigned char>(token[4])) &&
            sscanf(token.c_str() + 3, "%2x%c", &value, &close) == 2) {
          pending += static_cast<char>(value);
          continue;
        }
        flush();
        next.push_back(token);
      }
      flush();
      break;
    }
    case DecoderStep::Fuse: {
      std::string all;
      for (const std::string &token : tokens)
        all += token;
      next.push_back(std::move(all));
      break;
    }
    case DecoderStep::Strip:
      for (const std::string &token : tokens) {
        std::u32string s = unicode::toUtf32(token);
        size_t begin = 0, end = s.size();
        for (int64_t i = 0;
             i < step.start && begin < end && s[begin] == step.content; ++i)
          ++begin;
        for (int64_t i = 0;
             i < step.stop && end > begin && s[end - 1] == step.content; ++i)
          --end;
        next.push_back(unicode::toUtf8(s.data() + begin, s.data() + end));
      }
      break;
    case DecoderStep::Metaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        std::u32string out;
        for (char32_t c : unicode::toUtf32(tokens[i])) {
          if (c != step.content)
            out += c;
          else if (!(i == 0 && step.prependScheme))
            out += U' ';
        }
        next.push_back(unicode::toUtf8(out));
      }
      break;
    }
    tokens.swap(next);
  }
  std::string text;
  for (const std::string &token : tokens)
    text += token;
  return text;
}

} // namespace

std::string qrun::loadTokenizer(const std::string &path,
                                std::unique_ptr<Tokenizer> &out) {
  auto tokenizer = std::make_unique<HuggingFaceTokenizer>();
  if (std::string error = tokenizer->load(path); !error.empty())
    return error;
  out = std::move(tokenizer);
  return "";
}
