//===- CommandLine.cpp - qrun's command lines, parsed by CLI11 ------------===//
//
// The one file that includes CLI11, which takes seconds to compile: the
// commands declare their options through CommandLine (Common.h), so that an
// option is one line and every command reports errors and prints --help the
// same way.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Common.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace qrun;

namespace {

/// --help's layout: options in a column this wide, then their help, wrapped
/// to end before kWidth.
constexpr size_t kColumn = 28, kWidth = 80;

/// `text` with its lines broken between words to at most `width` columns
/// (CLI11 does not wrap; it indents what follows a newline).
std::string wrap(const std::string &text, size_t width) {
  std::string out;
  size_t lineStart = 0, at = 0;
  while (at < text.size()) {
    size_t end = text.find_first_of(" \n", at);
    if (end == std::string::npos)
      end = text.size();
    std::string word = text.substr(at, end - at);
    if (out.size() > lineStart &&
        out.size() - lineStart + 1 + word.size() > width) {
      out += '\n';
      lineStart = out.size();
    } else if (out.size() > lineStart) {
      out += ' ';
    }
    out += word;
    if (end < text.size() && text[end] == '\n') {
      out += '\n';
      lineStart = out.size();
    }
    at = end + 1;
  }
  return out;
}

/// An option's help, wrapped to fit beside the column of options.
std::string wrapHelp(const char *help) { return wrap(help, kWidth - kColumn); }

/// "'a', 'b' or 'c'".
std::string listChoices(const std::vector<std::string> &choices) {
  std::string text;
  for (size_t i = 0; i < choices.size(); ++i)
    text += (i == 0                   ? ""
             : i + 1 < choices.size() ? ", "
                                      : " or ") +
            ("'" + choices[i] + "'");
  return text;
}

/// CLI11's message for `error`, where ours says more.
std::string describe(const CLI::ParseError &error) {
  std::string what = error.what();
  // "--output-dir: 1 required DIR missing": the flag came last, or right
  // before another flag.
  const std::string missing = " missing";
  size_t colon = what.find(": ");
  if (dynamic_cast<const CLI::ArgumentMismatch *>(&error) &&
      colon != std::string::npos && what.size() > missing.size() &&
      what.compare(what.size() - missing.size(), missing.size(), missing) == 0)
    return what.substr(0, colon) + ": needs a value";
  return what;
}

} // namespace

struct CommandLine::Impl {
  std::string command;
  CLI::App app;
  Impl(const std::string &command, const std::string &description)
      : command(command),
        app(wrap(description, kWidth - 1) + "\n", "qrun " + command) {}

  /// Checks, before any other check of `option` (a transform goes first),
  /// that its value is not one of the command's flags: CLI11 takes the
  /// argument after a flag as its value even when that is another flag
  /// ("--output-dir --threads 2"), which means the value was forgotten.
  void takesValue(CLI::Option *option) {
    const CLI::App &self = app;
    option->transform(CLI::Validator(
        [&self](std::string &text) {
          std::string name = text.substr(0, text.find('='));
          if (name.size() < 2 || name[0] != '-' ||
              !self.get_option_no_throw(name))
            return std::string();
          return "needs a value, got the option '" + text + "'";
        },
        ""));
  }
};

CommandLine::CommandLine(const std::string &command,
                         const std::string &description)
    : impl(std::make_unique<Impl>(command, description)) {
  impl->app.get_formatter()->column_width(kColumn);
  // Unknown arguments are left for parse, which names them.
  impl->app.allow_extras();
  impl->app.set_help_flag("-h,--help", "print this help and exit");
}

CommandLine::~CommandLine() = default;

void CommandLine::positional(const char *name, std::string &value,
                             const char *help) {
  impl->app.add_option(name, value, wrapHelp(help))->required()->type_name("");
}

void CommandLine::option(const char *flag, std::string &value,
                         const char *valueName, const char *help) {
  impl->takesValue(impl->app.add_option(flag, value, wrapHelp(help))
                       ->type_name(valueName)
                       ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast));
}

void CommandLine::option(const char *flag, std::vector<std::string> &values,
                         const char *valueName, const char *help) {
  // One value per occurrence: `--input A --input B`, never `--input A B`.
  impl->takesValue(impl->app.add_option(flag, values, wrapHelp(help))
                       ->type_name(valueName)
                       ->allow_extra_args(false));
}

void CommandLine::option(const char *flag, long long &value, long long minimum,
                         const char *help) {
  // The transform checks the text and rewrites it in plain decimal, which
  // CLI11 then converts (it would read "010" as octal and clamp overflows).
  CLI::Validator integer(
      [minimum](std::string &text) {
        long long parsed;
        if (!parseInt(text, parsed) || parsed < minimum)
          return "expected an integer >= " + std::to_string(minimum) +
                 ", got '" + text + "'";
        text = std::to_string(parsed);
        return std::string();
      },
      "");
  impl->takesValue(impl->app.add_option(flag, value, wrapHelp(help))
                       ->type_name("N")
                       ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
                       ->transform(integer));
}

void CommandLine::option(const char *flag, double &value, bool (*valid)(double),
                         const char *expected, const char *help) {
  std::string what = expected;
  CLI::Validator number(
      [valid, what](std::string &text) {
        char *end = nullptr;
        double parsed = strtod(text.c_str(), &end);
        if (text.empty() || *end != 0 || !std::isfinite(parsed) ||
            !valid(parsed))
          return "expected " + what + ", got '" + text + "'";
        char exact[32]; // 17 digits: reads back as the same double
        snprintf(exact, sizeof(exact), "%.17g", parsed);
        text = exact;
        return std::string();
      },
      "");
  impl->takesValue(impl->app.add_option(flag, value, wrapHelp(help))
                       ->type_name("X")
                       ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
                       ->transform(number));
}

void CommandLine::choice(const char *flag, std::string &value,
                         const std::vector<std::string> &choices,
                         const char *help) {
  std::string names;
  for (const std::string &choice : choices)
    names += (names.empty() ? "" : "|") + choice;
  CLI::Validator oneOf(
      [choices](std::string &text) {
        if (std::find(choices.begin(), choices.end(), text) != choices.end())
          return std::string();
        return "expected " + listChoices(choices) + ", got '" + text + "'";
      },
      "");
  impl->takesValue(impl->app.add_option(flag, value, wrapHelp(help))
                       ->type_name(names)
                       ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
                       ->check(oneOf));
}

void CommandLine::flag(const char *flag, bool &value, const char *help) {
  impl->app.add_flag(flag, value, wrapHelp(help));
}

void CommandLine::footer(const std::string &text) { impl->app.footer(text); }

int CommandLine::parse(int argc, char **argv) {
  CLI::App &app = impl->app;
  try {
    // CLI11 takes the arguments last first.
    std::vector<std::string> args(argv, argv + argc);
    std::reverse(args.begin(), args.end());
    app.parse(args);
  } catch (const CLI::Success &) { // --help
    fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError &error) {
    return usageError(describe(error));
  }
  for (const std::string &arg : app.remaining()) {
    if (arg == "--")
      continue;
    return usageError((arg.size() > 1 && arg[0] == '-'
                           ? "unknown option '"
                           : "unexpected argument '") +
                      arg + "'");
  }
  return -1;
}

int CommandLine::usageError(const std::string &message) const {
  fprintf(stderr, "qrun: error: %s\nrun 'qrun %s --help' for usage\n",
          message.c_str(), impl->command.c_str());
  return 2;
}

int qrun::dispatchCommand(const std::string &description,
                          const std::vector<Command> &commands, int argc,
                          char **argv) {
  auto help = [&] {
    CLI::App app(wrap(description, kWidth - 1) + "\n", "qrun");
    app.set_help_flag("-h,--help", "print this help and exit");
    app.require_subcommand(1);
    app.get_formatter()->label("SUBCOMMAND", "COMMAND");
    const size_t column = 16;
    app.get_formatter()->column_width(column);
    for (const Command &command : commands)
      if (command.summary)
        app.add_subcommand(command.name, wrap(command.summary, kWidth - column))
            ->group("Commands");
    app.footer("'qrun COMMAND --help' prints a command's options.");
    return app.help();
  };
  if (argc < 2) {
    fputs(help().c_str(), stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "-h" || name == "--help") {
    fputs(help().c_str(), stdout);
    return 0;
  }
  for (const Command &command : commands)
    if (name == command.name)
      return command.run(argc - 2, argv + 2);
  fprintf(stderr,
          "qrun: error: unknown %s '%s'\nrun 'qrun --help' for the commands\n",
          name[0] == '-' ? "option" : "command", name.c_str());
  return 2;
}
