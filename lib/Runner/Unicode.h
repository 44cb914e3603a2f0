//===- Unicode.h - the Unicode the tokenizers need ---------------*- C++
//-*-===//
//
// UTF-8, the general categories L and N and White_Space (the pre-tokenizer
// regexes' \p{L}, \p{N} and \s), and NFC normalization, from tables generated
// from Python's unicodedata (UnicodeData.inc, utils/unicode). Internal to
// QOptRunner; no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNNER_UNICODE_H
#define QOPT_LIB_RUNNER_UNICODE_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace qrun {
namespace unicode {

/// The Unicode version of the tables ("14.0.0").
const char *version();

/// Decodes the code point at `text[at]` and advances `at` past it; false
/// (and `at` unchanged) when the bytes there are not valid UTF-8 (overlong
/// forms, surrogates and code points above U+10FFFF are invalid).
bool decodeUtf8(const std::string &text, size_t &at, char32_t &code);
/// The offset of the first byte that is not part of valid UTF-8, or
/// std::string::npos when `text` is valid.
size_t invalidUtf8Offset(const std::string &text);
/// Appends `code` in UTF-8.
void appendUtf8(char32_t code, std::string &out);
/// `text` as UTF-8 with every invalid sequence replaced by U+FFFD, one per
/// maximal subpart (the WHATWG decoder's and Rust's from_utf8_lossy's rule).
std::string lossyUtf8(const std::string &text);
/// `text` (valid UTF-8) as code points.
std::u32string toUtf32(const std::string &text);
std::string toUtf8(const std::u32string &text);
std::string toUtf8(const char32_t *begin, const char32_t *end);

/// General category L (Lu, Ll, Lt, Lm, Lo).
bool isLetter(char32_t code);
/// General category N (Nd, Nl, No).
bool isNumber(char32_t code);
/// The White_Space property (what Oniguruma's and Rust's \s match).
bool isWhiteSpace(char32_t code);
/// The canonical combining class.
int combiningClass(char32_t code);

/// Canonical composition (NFC) of `text`, valid UTF-8.
std::string nfc(const std::string &text);

} // namespace unicode
} // namespace qrun

#endif // QOPT_LIB_RUNNER_UNICODE_H
