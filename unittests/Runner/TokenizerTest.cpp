//===- TokenizerTest.cpp - checks qopt's tokenizers against references ----===//
//
// qrun-tokenizer-test, run by test/Runner/tokenizer*.test:
//
//   check TOKENIZER.json REFERENCE.json NAME
//       encode() and decode() of every case of reference.json's tokenizer
//       NAME (made by an independent implementation: make-reference.mjs),
//       the post-processor's prefix (encode with special tokens), and
//       qrun eval's split of prompt/answer cases (TextEncoder::encodeCase)
//   roundtrip TOKENIZER.json CASES.json
//       decode(encode(input)) == expected for [[input, expected], ...]
//       (the NFC test: a byte-level tokenizer with an NFC normalizer)
//   encode TOKENIZER.json [--file FILE | TEXT] [--repeat N]
//       prints the ids of TEXT (or FILE's bytes) and, with --repeat, the
//       time of the first encoding and of N more on stderr
//   decode TOKENIZER.json ID...
//       prints the text of the ids
//   info TOKENIZER.json
//       prints describe(), the vocabulary size, prefix(), bos() and eos()
//
// TOKENIZER.json "bytes" stands for the byte tokenizer. Exits 1 and names
// every failed check; loading errors are printed and exit 2.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Tokenizer.h"
#include "qopt/Runner/Eval.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using json = nlohmann::json;
using namespace qrun;

namespace {

std::string idsText(const std::vector<int64_t> &ids) {
  std::string text = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    text += (i ? "," : "") + std::to_string(ids[i]);
  return text + "]";
}

bool readJson(const char *path, json &out) {
  std::ifstream in(path);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", path);
    return false;
  }
  try {
    out = json::parse(in);
  } catch (const json::exception &e) {
    fprintf(stderr, "%s: %s\n", path, e.what());
    return false;
  }
  return true;
}

int load(const char *path, std::unique_ptr<Tokenizer> &tokenizer) {
  if (strcmp(path, "bytes") == 0) {
    tokenizer = std::make_unique<ByteTokenizer>();
    return 0;
  }
  if (std::string error = loadTokenizer(path, tokenizer); !error.empty()) {
    fprintf(stderr, "error: %s\n", error.c_str());
    return 2;
  }
  return 0;
}

int check(const Tokenizer &tokenizer, const json &reference) {
  int passed = 0, failed = 0;
  for (const json &c : reference.at("cases")) {
    std::string text = c.at("text").get<std::string>();
    std::vector<int64_t> expected = c.at("ids").get<std::vector<int64_t>>();
    std::vector<int64_t> ids;
    std::string error = tokenizer.encode(text, ids);
    std::string quoted = json(text).dump();
    bool ok = true;
    if (!error.empty() || ids != expected) {
      fprintf(stderr, "encode(%s): got %s%s, expected %s\n", quoted.c_str(),
              idsText(ids).c_str(), error.empty() ? "" : (" " + error).c_str(),
              idsText(expected).c_str());
      ok = false;
    }
    std::string decoded = tokenizer.decode(expected);
    // decoded_rust: where tokenizers.js and the Rust tokenizers library
    // decode differently, Rust's text (make-reference.mjs says why).
    std::string expectedText =
        c.value("decoded_rust", c.at("decoded").get<std::string>());
    if (decoded != expectedText) {
      fprintf(stderr, "decode(%s) of %s: got %s, expected %s\n",
              idsText(expected).c_str(), quoted.c_str(),
              json(decoded).dump().c_str(), json(expectedText).dump().c_str());
      ok = false;
    }
    std::vector<int64_t> special = tokenizer.prefix();
    special.insert(special.end(), expected.begin(), expected.end());
    special.insert(special.end(), tokenizer.suffix().begin(),
                   tokenizer.suffix().end());
    std::vector<int64_t> expectedSpecial =
        c.at("with_special_tokens").get<std::vector<int64_t>>();
    if (special != expectedSpecial) {
      fprintf(stderr, "prefix + ids + suffix of %s: got %s, expected %s\n",
              quoted.c_str(), idsText(special).c_str(),
              idsText(expectedSpecial).c_str());
      ok = false;
    }
    (ok ? passed : failed)++;
  }
  eval::TextEncoder encoder;
  encoder.tokenizer = &tokenizer;
  encoder.bos = tokenizer.prefix();
  for (const json &entry : reference.at("suite")) {
    eval::Case c;
    c.fromText = true;
    c.promptText = entry.at("prompt").get<std::string>();
    c.answerText = entry.at("answer").get<std::string>();
    std::string error = encoder.encodeCase(c);
    std::string quoted =
        json(c.promptText).dump() + " + " + json(c.answerText).dump();
    bool ok;
    if (entry.value("error", false)) {
      ok = !error.empty();
      if (!ok)
        fprintf(stderr, "case %s: no error, expected one\n", quoted.c_str());
    } else {
      auto prompt = entry.at("prompt_ids").get<std::vector<int64_t>>();
      auto answer = entry.at("answer_ids").get<std::vector<int64_t>>();
      ok = error.empty() && c.prompt == prompt && c.answer == answer;
      if (!ok)
        fprintf(stderr, "case %s: got %s + %s%s, expected %s + %s\n",
                quoted.c_str(), idsText(c.prompt).c_str(),
                idsText(c.answer).c_str(),
                error.empty() ? "" : (" " + error).c_str(),
                idsText(prompt).c_str(), idsText(answer).c_str());
    }
    (ok ? passed : failed)++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

int roundtrip(const Tokenizer &tokenizer, const json &cases) {
  int passed = 0, failed = 0;
  for (const json &c : cases) {
    std::string input = c.at(0).get<std::string>();
    std::string expected = c.at(1).get<std::string>();
    std::vector<int64_t> ids;
    std::string error = tokenizer.encode(input, ids);
    std::string got = tokenizer.decode(ids);
    if (!error.empty() || got != expected) {
      if (failed < 20)
        fprintf(stderr, "roundtrip(%s): got %s, expected %s %s\n",
                json(input).dump().c_str(), json(got).dump().c_str(),
                json(expected).dump().c_str(), error.c_str());
      ++failed;
    } else {
      ++passed;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

int usage() {
  fprintf(stderr, "usage: qrun-tokenizer-test check TOKENIZER.json "
                  "REFERENCE.json NAME\n"
                  "   or: qrun-tokenizer-test roundtrip TOKENIZER.json "
                  "CASES.json\n"
                  "   or: qrun-tokenizer-test encode TOKENIZER.json "
                  "[--file FILE | TEXT] [--repeat N]\n"
                  "   or: qrun-tokenizer-test decode TOKENIZER.json ID...\n"
                  "   or: qrun-tokenizer-test info TOKENIZER.json\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  std::string command = argv[1];
  std::unique_ptr<Tokenizer> tokenizer;
  if (int status = load(argv[2], tokenizer))
    return status;
  if (command == "check" && argc == 5) {
    json reference;
    if (!readJson(argv[3], reference))
      return 2;
    const json &tokenizers = reference.at("tokenizers");
    if (!tokenizers.contains(argv[4])) {
      fprintf(stderr, "%s has no tokenizer '%s'\n", argv[3], argv[4]);
      return 2;
    }
    return check(*tokenizer, tokenizers[argv[4]]);
  }
  if (command == "roundtrip" && argc == 4) {
    json cases;
    if (!readJson(argv[3], cases))
      return 2;
    return roundtrip(*tokenizer, cases);
  }
  if (command == "encode") {
    std::string text;
    long repeat = 0;
    for (int i = 3; i < argc; ++i) {
      if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
        std::ifstream in(argv[++i], std::ios::binary);
        std::stringstream buffer;
        buffer << in.rdbuf();
        text = buffer.str();
      } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
        repeat = strtol(argv[++i], nullptr, 10);
      } else {
        text = argv[i];
      }
    }
    std::vector<int64_t> ids;
    auto first = std::chrono::steady_clock::now();
    if (std::string error = tokenizer->encode(text, ids); !error.empty()) {
      fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    double firstMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - first)
                         .count();
    if (repeat > 0) {
      auto start = std::chrono::steady_clock::now();
      std::vector<int64_t> again;
      for (long i = 0; i < repeat; ++i) {
        again.clear();
        tokenizer->encode(text, again);
      }
      double ms = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
      fprintf(stderr,
              "%zu bytes -> %zu tokens: first encode %.3f ms, then %.3f ms "
              "per encode (words cached)\n",
              text.size(), ids.size(), firstMs,
              ms / static_cast<double>(repeat));
    }
    printf("%s\n", idsText(ids).c_str());
    return 0;
  }
  if (command == "info" && argc == 3) {
    printf("%s\nvocabulary %lld, prefix %s, suffix %s, bos %lld, eos %lld\n",
           tokenizer->describe().c_str(),
           static_cast<long long>(tokenizer->vocabSize()),
           idsText(tokenizer->prefix()).c_str(),
           idsText(tokenizer->suffix()).c_str(),
           static_cast<long long>(tokenizer->bos()),
           static_cast<long long>(tokenizer->eos()));
    return 0;
  }
  if (command == "decode") {
    std::vector<int64_t> ids;
    for (int i = 3; i < argc; ++i)
      ids.push_back(strtoll(argv[i], nullptr, 10));
    printf("%s\n", tokenizer->decode(ids).c_str());
    return 0;
  }
  return usage();
}
