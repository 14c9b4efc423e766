// Parses the text form of lang/text.h back into a Module.
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "lang/text.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

struct Token {
  enum class Kind { identifier, global, local, integer, real, string, punct, end } kind = Kind::end;
  std::string text;  // identifier/name/string contents, number text, or the punctuation
  int line = 1;
  int column = 1;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  Token next() {
    skip_space_and_comments();
    Token t;
    t.line = line_;
    t.column = column_;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    if (c == '@' || c == '%') {
      advance();
      t.kind = c == '@' ? Token::Kind::global : Token::Kind::local;
      t.text = peek() == '"' ? read_string() : read_while([](char ch) { return std::isalnum(ch) || ch == '_' || ch == '.'; });
      if (t.text.empty()) error(t, std::string("expected a name after '") + c + "'");
      return t;
    }
    if (c == '"') {
      t.kind = Token::Kind::string;
      t.text = read_string();
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Token::Kind::identifier;
      t.text = read_while([](char ch) { return std::isalnum(ch) || ch == '_' || ch == '.'; });
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && pos_ + 1 < text_.size() &&
                                                       (std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])) || text_[pos_ + 1] == 'i'))) {
      t.text = read_while([](char ch) { return std::isalnum(ch) || ch == '.' || ch == '-' || ch == '+'; });
      const bool real = t.text.find_first_of(".eEn") != std::string::npos && t.text.find("0x") == std::string::npos;
      t.kind = real ? Token::Kind::real : Token::Kind::integer;
      return t;
    }
    if (c == '-' && text_.substr(pos_, 2) == "->") {
      advance();
      advance();
      t.kind = Token::Kind::punct;
      t.text = "->";
      return t;
    }
    if (std::strchr("(){}[],:;=.", c)) {
      advance();
      t.kind = Token::Kind::punct;
      t.text = std::string(1, c);
      return t;
    }
    error(t, std::string("unexpected character '") + c + "'");
  }

  [[noreturn]] void error(const Token& at, const std::string& message) const {
    fail(SourceLocation{source_, at.line, at.column}, message);
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }
  template <typename Pred>
  std::string read_while(Pred pred) {
    std::string out;
    while (pos_ < text_.size() && pred(text_[pos_])) {
      out += text_[pos_];
      advance();
    }
    return out;
  }
  std::string read_string() {
    Token start{Token::Kind::string, {}, line_, column_};
    advance();  // opening quote
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) advance();
      out += text_[pos_];
      advance();
    }
    if (pos_ >= text_.size()) error(start, "unterminated string");
    advance();
    return out;
  }
  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        advance();
      } else if (text_[pos_] == '#' || text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& source, const Module* data_source)
      : lexer_(text, source), source_(source), data_source_(data_source) {
    token_ = lexer_.next();
  }

  Module parse() {
    while (token_.kind != Token::Kind::end) {
      if (is_word("const")) parse_constant();
      else if (is_word("def")) parse_function();
      else error("expected 'const' or 'def'");
    }
    return std::move(module_);
  }

 private:
  bool is_word(std::string_view w) const { return token_.kind == Token::Kind::identifier && token_.text == w; }
  bool is_punct(std::string_view p) const { return token_.kind == Token::Kind::punct && token_.text == p; }
  [[noreturn]] void error(const std::string& message) const {
    const std::string found = token_.kind == Token::Kind::end ? "end of input" : "'" + token_.text + "'";
    lexer_.error(token_, message + ", found " + found);
  }
  Token take() {
    Token t = token_;
    token_ = lexer_.next();
    return t;
  }
  void expect(std::string_view punct) {
    if (!is_punct(punct)) error("expected '" + std::string(punct) + "'");
    take();
  }
  bool accept(std::string_view punct) {
    if (!is_punct(punct)) return false;
    take();
    return true;
  }
  Token expect_kind(Token::Kind kind, const char* what) {
    if (token_.kind != kind) error(std::string("expected ") + what);
    return take();
  }
  int64_t parse_int() {
    const Token t = expect_kind(Token::Kind::integer, "an integer");
    return std::stoll(t.text, nullptr, 0);
  }

  TensorType parse_tensor_type() {
    if (!is_word("Tensor")) error("expected a type 'Tensor[(...), dtype]'");
    take();
    expect("[");
    expect("(");
    TensorType type;
    while (!is_punct(")")) {
      type.shape.push_back(parse_int());
      if (!accept(",")) break;
    }
    expect(")");
    expect(",");
    const Token d = expect_kind(Token::Kind::identifier, "a dtype");
    auto dtype = parse_dtype(d.text);
    if (!dtype) lexer_.error(d, "unknown dtype '" + d.text + "'");
    type.dtype = *dtype;
    expect("]");
    return type;
  }

  std::vector<TensorType> parse_types() {
    if (!accept("(")) return {parse_tensor_type()};
    std::vector<TensorType> types;
    while (!is_punct(")")) {
      types.push_back(parse_tensor_type());
      if (!accept(",")) break;
    }
    expect(")");
    return types;
  }

  void parse_constant() {
    take();  // const
    const Token name = expect_kind(Token::Kind::global, "a constant name '@...'");
    expect(":");
    const TensorType type = parse_tensor_type();
    expect("=");
    Tensor value;
    if (is_word("elided")) {
      take();
      expect("(");
      const Token digest = expect_kind(Token::Kind::string, "a digest string");
      expect(")");
      value = constant_from_source(name.text, type, digest.text);
    } else {
      value = parse_constant_values(type, name);
    }
    if (module_.constants.count(name.text)) lexer_.error(name, "constant @" + name.text + " is defined twice");
    module_.constants.emplace(name.text, std::move(value));
  }

  Tensor constant_from_source(const std::string& name, const TensorType& type, const std::string& digest) {
    if (data_source_) {
      auto it = data_source_->constants.find(name);
      if (it != data_source_->constants.end() && it->second.type() == type && it->second.has_data()) return it->second;
    }
    return Tensor::opaque(type, digest);
  }

  Tensor parse_constant_values(const TensorType& type, const Token& name) {
    expect("[");
    std::vector<double> values;
    while (!is_punct("]")) {
      values.push_back(parse_number());
      if (!accept(",")) break;
    }
    expect("]");
    if (static_cast<int64_t>(values.size()) != type.element_count())
      lexer_.error(name, "constant @" + name.text + " has " + std::to_string(values.size()) + " values for " + type.str());
    Tensor t(type);
    if (t.type().dtype == DType::float16 || t.type().dtype == DType::bfloat16)
      lexer_.error(name, "inline constants of type " + type.str() + " are not supported");
    for (size_t i = 0; i < values.size(); ++i) t.set_element(i, values[i]);
    return t;
  }

  double parse_number() {
    if (token_.kind == Token::Kind::identifier && (token_.text == "inf" || token_.text == "nan")) {
      const bool inf = take().text == "inf";
      return inf ? INFINITY : NAN;
    }
    if (token_.kind != Token::Kind::integer && token_.kind != Token::Kind::real) error("expected a number");
    const Token t = take();
    if (t.text == "-inf") return -INFINITY;
    return t.kind == Token::Kind::integer ? static_cast<double>(std::stoll(t.text, nullptr, 0)) : std::stod(t.text);
  }

  void parse_function() {
    take();  // def
    const Token name = expect_kind(Token::Kind::global, "a function name '@...'");
    if (module_.find_function(name.text)) lexer_.error(name, "function @" + name.text + " is defined twice");
    Function fn;
    fn.name = name.text;
    std::unordered_map<std::string, uint32_t> params;
    expect("(");
    while (!is_punct(")")) {
      const Token p = expect_kind(Token::Kind::local, "a parameter '%name'");
      expect(":");
      if (params.count(p.text)) lexer_.error(p, "parameter %" + p.text + " is declared twice");
      params[p.text] = static_cast<uint32_t>(fn.params.size());
      fn.params.push_back({p.text, parse_tensor_type()});
      if (!accept(",")) break;
    }
    expect(")");
    if (accept("->")) parse_types();  // recomputed from the body; checked by InferType
    if (is_word("primitive")) {
      take();
      fn.primitive = true;
    }
    expect("{");
    for (;;) {
      if (token_.kind == Token::Kind::local && is_binding_name(token_.text)) {
        const Token n = token_;
        const std::string text = n.text;
        take();
        if (is_punct("=")) {
          if (std::stoul(text) != fn.body.size())
            lexer_.error(n, "expected binding %" + std::to_string(fn.body.size()) + " (bindings are numbered in order)");
          take();
          fn.body.push_back(parse_binding(fn, params));
          continue;
        }
        fn.results.push_back(resolve_ref(n, fn, params));
        break;
      }
      if (accept("(")) {
        while (!is_punct(")")) {
          fn.results.push_back(parse_ref(fn, params));
          if (!accept(",")) break;
        }
        expect(")");
        break;
      }
      fn.results.push_back(parse_ref(fn, params));
      break;
    }
    expect("}");
    module_.functions.push_back(std::move(fn));
  }

  static bool is_binding_name(const std::string& s) {
    return !s.empty() && std::isdigit(static_cast<unsigned char>(s[0]));
  }

  ValueRef parse_ref(const Function& fn, const std::unordered_map<std::string, uint32_t>& params) {
    if (token_.kind != Token::Kind::local && token_.kind != Token::Kind::global) error("expected a value (%n, %name or @constant)");
    return resolve_ref(take(), fn, params);
  }

  ValueRef resolve_ref(const Token& t, const Function& fn, const std::unordered_map<std::string, uint32_t>& params) {
    if (t.kind == Token::Kind::global) {
      if (!module_.constants.count(t.text)) lexer_.error(t, "unknown constant @" + t.text);
      return ValueRef::constant_named(t.text);
    }
    if (is_binding_name(t.text)) {
      const size_t dot = t.text.find('.');
      const uint32_t index = static_cast<uint32_t>(std::stoul(t.text.substr(0, dot)));
      const uint32_t output = dot == std::string::npos ? 0 : static_cast<uint32_t>(std::stoul(t.text.substr(dot + 1)));
      if (index >= fn.body.size()) lexer_.error(t, "%" + t.text + " is used before it is defined");
      return ValueRef::binding(index, output);
    }
    auto it = params.find(t.text);
    if (it == params.end()) lexer_.error(t, "unknown parameter %" + t.text);
    return ValueRef::param(it->second);
  }

  Binding parse_binding(const Function& fn, const std::unordered_map<std::string, uint32_t>& params) {
    Binding b;
    const Token callee = take();
    if (callee.kind == Token::Kind::global) {
      if (!module_.find_function(callee.text)) lexer_.error(callee, "unknown function @" + callee.text + " (define callees first)");
      b.function = callee.text;
    } else if (callee.kind == Token::Kind::identifier) {
      b.op = OpRegistry::global().find(callee.text);
      if (!b.op) {
        try {
          OpRegistry::global().get(callee.text);
        } catch (const Error& e) {
          lexer_.error(callee, e.diagnostics()[0].message +
                                   (e.diagnostics()[0].hint.empty() ? "" : "; " + e.diagnostics()[0].hint));
        }
      }
    } else {
      lexer_.error(callee, "expected an operator or @function");
    }
    std::unique_ptr<Attrs> attrs = b.op ? b.op->make_attrs() : nullptr;
    expect("(");
    while (!is_punct(")")) {
      if (token_.kind == Token::Kind::identifier) {
        const Token key = take();
        expect("=");
        if (!attrs) lexer_.error(key, "function calls take no attributes");
        try {
          set_attr(*attrs, key.text, parse_attr_value());
        } catch (const Error& e) {
          lexer_.error(key, e.diagnostics()[0].message);
        }
      } else {
        b.args.push_back(parse_ref(fn, params));
      }
      if (!accept(",")) break;
    }
    expect(")");
    if (attrs) b.attrs = AttrsPtr(std::move(attrs));
    if (accept(":")) b.types = parse_types();
    expect(";");
    return b;
  }

  AttrValue parse_attr_value() {
    AttrValue v;
    if (accept("[")) {
      v.kind = AttrValue::Kind::int_list;
      while (!is_punct("]")) {
        if (token_.kind == Token::Kind::real || token_.kind == Token::Kind::identifier) v.kind = AttrValue::Kind::real_list;
        v.reals.push_back(parse_number());
        if (!accept(",")) break;
      }
      expect("]");
      if (v.kind == AttrValue::Kind::int_list)
        for (double r : v.reals) v.ints.push_back(static_cast<int64_t>(r));
      return v;
    }
    if (token_.kind == Token::Kind::string) {
      v.kind = AttrValue::Kind::string;
      v.s = take().text;
    } else if (is_word("true") || is_word("false")) {
      v.kind = AttrValue::Kind::boolean;
      v.b = take().text == "true";
    } else if (is_word("inf") || is_word("nan") || token_.kind == Token::Kind::real) {
      v.kind = AttrValue::Kind::real;
      v.r = parse_number();
    } else if (token_.kind == Token::Kind::integer) {
      v.kind = AttrValue::Kind::integer;
      v.i = parse_int();
    } else if (token_.kind == Token::Kind::identifier) {
      v.kind = AttrValue::Kind::string;
      v.s = take().text;
    } else {
      error("expected an attribute value");
    }
    return v;
  }

  Lexer lexer_;
  Token token_;
  std::string source_;
  const Module* data_source_;
  Module module_;
};

}  // namespace

Module parse_module(std::string_view text, const std::string& source_name, const Module* data_source) {
  return Parser(text, source_name, data_source).parse();
}

}  // namespace modelc::lang
