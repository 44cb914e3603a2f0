//===- Tokenizer.h - text to token ids and back -----------------*- C++ -*-===//
//
// The tokenizers of `qrun eval` (docs/eval.md, "Tokenizers"): bytes as
// tokens (the bundled byte-level model's vocabulary), and Hugging Face
// tokenizer.json files of BPE models: byte-level BPE as GPT-2, Llama-3 and
// Qwen2 use, and SentencePiece-style BPE as Llama-2 and Mistral express it
// in tokenizer.json. A feature of a file that is not implemented is an error
// naming the feature and the file, never a different encoding. No LLVM,
// like the rest of the runner.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_TOKENIZER_H
#define QOPT_RUNNER_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qrun {

class Tokenizer {
public:
  virtual ~Tokenizer();

  /// Appends the token ids of `text` to `ids`, as the Hugging Face
  /// tokenizers' encode(text, add_special_tokens=False): added tokens
  /// written in the text (e.g. "<|endoftext|>") become their ids, nothing
  /// is added before or after (see prefix()). Returns an error (text that
  /// is not UTF-8), or "".
  virtual std::string encode(const std::string &text,
                             std::vector<int64_t> &ids) const = 0;
  /// The text of `ids`, added tokens included, as the Hugging Face
  /// tokenizers' decode(ids, skip_special_tokens=False) with no clean-up of
  /// spaces; bytes that are not UTF-8 become U+FFFD. Ids that are no
  /// token are skipped.
  virtual std::string decode(const std::vector<int64_t> &ids) const = 0;
  /// One more than the largest token id.
  virtual int64_t vocabSize() const = 0;
  /// The id of the token spelled `token` (as the file's vocabulary or added
  /// tokens write it), or -1.
  virtual int64_t tokenId(const std::string &token) const = 0;
  /// What it is, for messages ("bytes", "PATH (byte-level BPE, 50257
  /// tokens)").
  virtual std::string describe() const = 0;

  /// The tokens the file's post-processor puts before a single text
  /// (TemplateProcessing's special tokens before $A, e.g. Llama-2's <s>):
  /// what encode(text, add_special_tokens=True) adds in front. Empty for
  /// most byte-level BPE files and for bytes.
  const std::vector<int64_t> &prefix() const { return prefixIds; }
  /// The tokens it puts after a single text (rare).
  const std::vector<int64_t> &suffix() const { return suffixIds; }
  /// The beginning- and end-of-sequence tokens where the files name them
  /// (tokenizer_config.json's bos_token and eos_token beside
  /// tokenizer.json), else -1.
  int64_t bos() const { return bosId; }
  int64_t eos() const { return eosId; }

protected:
  std::vector<int64_t> prefixIds, suffixIds;
  int64_t bosId = -1, eosId = -1;
};

/// Token id = byte value: 256 tokens, nothing special.
class ByteTokenizer : public Tokenizer {
public:
  std::string encode(const std::string &text,
                     std::vector<int64_t> &ids) const override;
  std::string decode(const std::vector<int64_t> &ids) const override;
  int64_t vocabSize() const override { return 256; }
  int64_t tokenId(const std::string &token) const override;
  std::string describe() const override { return "bytes"; }
};

/// Loads a Hugging Face tokenizer.json (and reads bos_token and eos_token
/// from a tokenizer_config.json in the same directory, if there is one).
/// Returns an error naming the file, and the feature when it is one that
/// is not implemented; "" on success.
std::string loadTokenizer(const std::string &path,
                          std::unique_ptr<Tokenizer> &out);

} // namespace qrun

#endif // QOPT_RUNNER_TOKENIZER_H
