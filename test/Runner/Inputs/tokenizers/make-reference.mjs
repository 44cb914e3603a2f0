// Writes reference.json: the token ids and decoded texts that tokenizers.js
// (@huggingface/tokenizers, pinned in utils/tokenizers; a JavaScript
// implementation independent of qopt's) gives for a fixed set of texts with
// every tokenizer file of tokenizer-files.mjs, and how qrun eval must split
// prompt/answer cases into tokens.
//
//   node test/Runner/Inputs/tokenizers/make-reference.mjs [OUT.json]
//
// (OUT.json defaults to reference.json beside this script;
// test/Runner/tokenizer.test checks that the checked-in file is what this
// script writes.)
// Needs utils/tokenizers/node_modules (source scripts/lib.sh &&
// ensure_tokenizers). The output is checked in; test/Runner/tokenizer.test
// compares qopt's encode() and decode() with it.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tokenizerFiles, utilsDir } from "./tokenizer-files.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { Tokenizer } = await import(pathToFileURL(join(
  utilsDir, "node_modules", "@huggingface", "tokenizers", "dist",
  "tokenizers.mjs")).href);

export const texts = [
  "Hello world",
  "The quick brown fox jumps over the lazy dog.",
  " leading space",
  "trailing space ",
  "multiple   spaces  between\twords",
  "line one\nline two\n\nline four\r\nwindows line\n",
  "\n\n\nnewlines first",
  "   ",
  "It's what we've said: they'll go, I'd say, you're fine, I'm sure.",
  "IT'S LOUD: WE'VE GOT IT, THEY'LL SEE'D",
  "'s 't 're 've 'm 'll 'd ''s",
  "Numbers: 12345.678, 3.14159, -42, 1,000,000 and 2024-06-01.",
  "1234567890 12 123 1234",
  "def f(x):\n    return x * 2  # double\n\tif x:\n\t\tpass\n",
  "for (int i = 0; i < n; ++i) { a[i] += b[i]; }",
  "{\"name\": \"qopt\", \"tags\": [\"a\", \"b\"], \"n\": 3}",
  "Café naïve façade résumé Zürich",
  "Cafe\u0301 with a combining acute, e\u0308 and a\u030a",
  "\u212b \u2126 \u00c5 angstrom and ohm signs",
  "日本語のテキストです。中文文本。한국어 텍스트",
  "Emoji: 😀👍🏽🎉 and ❤️ and 👨‍👩‍👧",
  "Ελληνικά и русский текст, עברית, العربية",
  "<|endoftext|>special<|endoftext|> tokens",
  "<s>bos and </s> eos in text",
  "<|begin_of_text|>Hello<|eot_id|>",
  "<|im_start|>user\nHi<|im_end|>",
  "URLs: https://example.com/path?q=1&r=2#frag",
  "Mixed: snake_case, camelCase, kebab-case, ALLCAPS, x2y3z4",
  "Tabs\tand\u00a0no-break\u3000ideographic spaces",
  "!!! ??? ... --- *** ===",
  "ſ is a long s: 'ſ",
  "Spaces and newlines:  \n  \n \n\n   end \n",
  "  \t \n\tindented\n        deeper\n",
  "<|endoftext|> <|endoftext|>  <|endoftext|>\n<|endoftext|>",
  "Other digits: \u0663\u0664\u0665 \u216b \u00bd \u2460 and ٣4٥",
  "\u0301 starts with a mark; Thai: \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
  "Hangul jamo \u1100\u1161\u11a8 and syllable \uac01",
  "Zero\u200bwidth\u200djoiner and \u00adsoft hyphen",
  "Control \u0001\u0002 bytes and DEL \u007f",
  "A'S 'RE 'Ll 'VE",
  "supercalifragilisticexpialidocious antidisestablishmentarianism",
]

function encodeAll(tokenizer, json, list) {
  return list.map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const decoded = ids.length
      ? tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })
      : "";
    const special = tokenizer.encode(text, { add_special_tokens: true }).ids;
    const entry = { text, ids, decoded, with_special_tokens: special };
    const rust = rustMetaspaceDecode(tokenizer, json, ids);
    if (rust !== null && rust !== decoded) entry.decoded_rust = rust;
    return entry;
  });
}

// Where tokenizers.js and the Rust tokenizers library (the one Python's
// transformers uses, which qopt follows) decode differently: Rust's
// Metaspace decoder drops every replacement character of the first token
// (tokenizers/src/decoders/metaspace.rs, decode_chain: `if i == 0 &&
// self.prepend_scheme != PrependScheme::Never { None }`); tokenizers.js
// turns them into spaces and strips one leading space. For a Metaspace
// decoder, this is Rust's rule on tokenizers.js's token strings; null for
// other decoders.
function rustMetaspaceDecode(tokenizer, json, ids) {
  const decoder = json.decoder;
  if (!decoder || decoder.type !== "Metaspace") return null;
  const replacement = decoder.replacement ?? "\u2581";
  const drop = (decoder.prepend_scheme ?? "always") !== "never";
  return ids.map((id, i) => {
    const token = tokenizer.id_to_token(id);
    return [...token].map((c) => c !== replacement ? c : (i === 0 && drop ? "" : " ")).join("");
  }).join("");
}

// The prompt/answer rule of docs/eval.md ("Tokenizers"), written here from
// that description: bos + encode(prompt) must be a prefix of bos +
// encode(prompt + answer); otherwise the prompt's trailing whitespace moves
// to the answer and the rule is tried once more; otherwise an error. The
// cases: the end-to-end suite (suite/capitals.jsonl, in_suite), and cases
// whose boundary splits a token.
const suiteCases = readFileSync(join(here, "suite", "capitals.jsonl"), "utf8")
  .split("\n").filter((l) => l.trim()).map((l) => ({ ...JSON.parse(l), in_suite: true }))
  .concat([
    { prompt: "The capital of Jap", answer: "an is Tokyo.\n", in_suite: false },
    { prompt: "Answer:\t \n", answer: "Paris", in_suite: false },
    { prompt: "x = 12", answer: "34", in_suite: false },
  ]);

function isPrefix(a, b) {
  return a.length <= b.length && a.every((x, i) => x === b[i]);
}

function splitCase(tokenizer, { prompt, answer, in_suite }) {
  const entry = { prompt, answer, in_suite };
  // add_special_tokens: the post-processor's prefix (Llama-2's <s>); no
  // tokenizer here appends anything after a single sequence.
  const enc = (t) => tokenizer.encode(t, { add_special_tokens: true }).ids;
  let p = enc(prompt), w = enc(prompt + answer);
  if (!isPrefix(p, w)) {
    const trimmed = prompt.replace(/\s+$/u, "");
    if (trimmed === prompt) return { ...entry, error: true };
    answer = prompt.slice(trimmed.length) + answer;
    prompt = trimmed;
    p = enc(prompt);
    w = enc(prompt + answer);
    if (!isPrefix(p, w)) return { ...entry, error: true };
  }
  if (p.length === w.length || p.length === 0) return { ...entry, error: true };
  return { ...entry, prompt_ids: p, answer_ids: w.slice(p.length) };
}

const version = (pkg) => JSON.parse(readFileSync(
  join(utilsDir, "node_modules", pkg, "package.json"), "utf8")).version;
const out = { generator: "@huggingface/tokenizers " +
  version("@huggingface/tokenizers"), tokenizers: {} };
for (const [name, file] of Object.entries(tokenizerFiles)) {
  const json = file.make();
  const tokenizer = new Tokenizer(json, {});
  out.tokenizers[name] = {
    package: file.package + "@" + version(file.package),
    cases: encodeAll(tokenizer, json, texts),
    suite: suiteCases.map((c) => splitCase(tokenizer, c)),
  };
}
writeFileSync(process.argv[2] ?? join(here, "reference.json"), formatJson(out));

// One case per line, so that diffs of the checked-in file stay readable.
function formatJson(value) {
  const lines = ["{", `"generator": ${JSON.stringify(value.generator)},`, "\"tokenizers\": {"];
  const names = Object.keys(value.tokenizers);
  names.forEach((name, n) => {
    const t = value.tokenizers[name];
    lines.push(`${JSON.stringify(name)}: {"package": ${JSON.stringify(t.package)}, "cases": [`);
    t.cases.forEach((c, i) => lines.push(JSON.stringify(c) + (i + 1 < t.cases.length ? "," : "")));
    lines.push("], \"suite\": [");
    t.suite.forEach((c, i) => lines.push(JSON.stringify(c) + (i + 1 < t.suite.length ? "," : "")));
    lines.push("]}" + (n + 1 < names.length ? "," : ""));
  });
  lines.push("}", "}");
  return lines.join("\n") + "\n";
}
