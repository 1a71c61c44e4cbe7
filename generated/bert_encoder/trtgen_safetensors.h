// A small, strict safetensors reader for trtgen's generated C++ builders: maps the file read-only, parses
// the JSON header and checks every tensor's dtype, shape and byte range against the file, so a truncated
// or corrupt weights file fails with a message naming the file, the tensor and the bytes involved.
// Standard library and POSIX only.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace trtgen
{

class WeightsError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct TensorView
{
    std::string dtype;
    std::vector<int64_t> shape;
    void const* data{nullptr}; // into the mapping; unaligned if the writer did not pad, so memcpy from it
    size_t nbytes{0};

    int64_t count() const
    {
        // Zero first: [huge, huge, 0] is a valid empty tensor whose partial products would overflow.
        // Otherwise SafeTensors has checked count * dtype size against the file, so this cannot overflow.
        int64_t n = std::count(shape.begin(), shape.end(), 0) ? 0 : 1;
        for (size_t i = 0; n != 0 && i < shape.size(); ++i)
        {
            n *= shape[i];
        }
        return n;
    }
};

namespace safetensors_detail
{

// Bytes per element, 0 for a dtype this reader does not know (sub-byte F4/F6 among them).
inline size_t dtype_bytes(std::string const& dtype)
{
    static std::map<std::string, size_t> const sizes{
        {"F64", 8}, {"I64", 8},  {"U64", 8},     {"C64", 8},     {"F32", 4},    {"I32", 4},
        {"U32", 4}, {"F16", 2},  {"BF16", 2},    {"I16", 2},     {"U16", 2},    {"I8", 1},
        {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}};
    auto it = sizes.find(dtype);
    return it == sizes.end() ? 0 : it->second;
}

inline std::string list_text(std::vector<int64_t> const& values, char const* close = "]")
{
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i)
    {
        out += (i ? ", " : "") + std::to_string(values[i]);
    }
    return out + close;
}

// A strict JSON reader over the header bytes, just enough for safetensors. Positions in errors are file
// offsets (header position + 8) to match a hex dump; `where` names the entry being read, if any.
class Json
{
public:
    Json(char const* text, size_t size, std::string const& path) : mText(text), mSize(size), mPath(path) {}

    std::string where;

    [[noreturn]] void fail(std::string const& what) const
    {
        throw WeightsError(mPath + ": bad header JSON at byte " + std::to_string(mPos + 8) +
                           (where.empty() ? "" : " in " + where) + ": " + what);
    }

    void check(bool ok, char const* what) const
    {
        if (!ok)
        {
            fail(what);
        }
    }

    // The next byte after blanks (writers pad the header with spaces), '\0' at the end.
    char peek()
    {
        while (at() == ' ' || at() == '\t' || at() == '\r' || at() == '\n')
        {
            ++mPos;
        }
        return at();
    }

    bool eat(char c)
    {
        bool const found = peek() == c;
        mPos += found ? 1 : 0;
        return found;
    }

    // An object, calling f(key) at each member's value, or (open == '[') an array, calling f("") per item.
    template <typename F> void list(char open, F&& f)
    {
        bool const object = open == '{';
        check(eat(open), object ? "expected '{'" : "expected '['");
        if (eat(object ? '}' : ']'))
        {
            return;
        }
        do
        {
            std::string const key = object ? string() : std::string();
            check(!object || eat(':'), "expected ':'");
            f(key);
        } while (eat(','));
        check(eat(object ? '}' : ']'), object ? "expected ',' or '}'" : "expected ',' or ']'");
    }

    std::string string()
    {
        static char const letters[] = "\"\\/bfnrtu", chars[] = "\"\\/\b\f\n\r\t";
        check(eat('"'), "expected a string");
        std::string out;
        while (at() != '"')
        {
            check(mPos < mSize, "unterminated string");
            check(static_cast<unsigned char>(at()) >= 0x20, "control character in a string");
            if (mText[mPos++] != '\\')
            {
                out += mText[mPos - 1];
                continue;
            }
            char const* const e = at() == '\0' ? nullptr : std::strchr(letters, at());
            check(e != nullptr, "bad escape in a string");
            ++mPos;
            utf8(out, *e == 'u' ? codepoint() : static_cast<uint32_t>(chars[e - letters]));
        }
        ++mPos;
        return out;
    }

    int64_t integer()
    {
        bool const negative = peek() == '-';
        size_t const first = mPos + (negative ? 1 : 0);
        check(number(), "expected an integer");
        uint64_t value = 0;
        for (size_t i = first; i < mPos; ++i)
        {
            uint64_t const digit = static_cast<uint64_t>(mText[i] - '0');
            check(value <= (std::numeric_limits<int64_t>::max() - digit) / 10, "integer out of range");
            value = value * 10 + digit;
        }
        return negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    }

    std::vector<int64_t> integers()
    {
        std::vector<int64_t> values;
        list('[', [&](std::string const&) { values.push_back(integer()); });
        return values;
    }

    // Any value, for metadata and unknown entry fields; depth-limited so hostile nesting cannot blow the stack.
    void skip(int depth = 0)
    {
        check(depth < 64, "values nested too deeply");
        char const c = peek();
        char const* const word = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : nullptr;
        if (c == '"')
        {
            string();
        }
        else if (c == '{' || c == '[')
        {
            list(c, [&](std::string const&) { skip(depth + 1); });
        }
        else if (word != nullptr)
        {
            size_t const n = std::strlen(word);
            check(mSize - mPos >= n && std::memcmp(mText + mPos, word, n) == 0, "expected a value");
            mPos += n;
        }
        else
        {
            number();
        }
    }

    void end()
    {
        check(peek() == '\0' && mPos == mSize, "unexpected text after the header object");
    }

private:
    char at(size_t ahead = 0) const
    {
        return mPos + ahead < mSize ? mText[mPos + ahead] : '\0';
    }

    size_t digits()
    {
        size_t const first = mPos;
        while (at() >= '0' && at() <= '9')
        {
            ++mPos;
        }
        return mPos - first;
    }

    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, returning whether it is an integer.
    bool number()
    {
        mPos += peek() == '-' ? 1u : 0u;
        size_t const first = mPos, n = digits();
        check(n == 1 || (n > 1 && mText[first] != '0'), n == 0 ? "expected a value" : "leading zero in a number");
        bool const fraction = at() == '.';
        mPos += fraction ? 1u : 0u;
        check(!fraction || digits() > 0, "malformed number");
        bool const exponent = at() == 'e' || at() == 'E';
        mPos += exponent ? (at(1) == '+' || at(1) == '-' ? 2u : 1u) : 0u;
        check(!exponent || digits() > 0, "malformed number");
        return !fraction && !exponent;
    }

    uint32_t hex4()
    {
        static char const hex[] = "0123456789abcdefABCDEF";
        uint32_t code = 0;
        for (int i = 0; i < 4; ++i, ++mPos)
        {
            char const* const d = at() == '\0' ? nullptr : std::strchr(hex, at());
            check(d != nullptr, "bad \\u escape");
            code = code << 4 | static_cast<uint32_t>(d - hex < 16 ? d - hex : d - hex - 6);
        }
        return code;
    }

    // After "\u": one code point. Beyond U+FFFF, JSON spells it as a UTF-16 surrogate pair.
    uint32_t codepoint()
    {
        uint32_t const high = hex4();
        if (high < 0xD800 || high > 0xDFFF)
        {
            return high;
        }
        check(high < 0xDC00 && at() == '\\' && at(1) == 'u', "unpaired surrogate in a \\u escape");
        mPos += 2;
        uint32_t const low = hex4();
        check(low >= 0xDC00 && low <= 0xDFFF, "unpaired surrogate in a \\u escape");
        return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    }

    static void utf8(std::string& out, uint32_t c)
    {
        static uint32_t const lead[] = {0x00, 0xC0, 0xE0, 0xF0};
        int const extra = c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
        out += static_cast<char>(lead[extra] | (c >> (6 * extra)));
        for (int i = extra - 1; i >= 0; --i)
        {
            out += static_cast<char>(0x80 | ((c >> (6 * i)) & 0x3F));
        }
    }

    char const* mText;
    size_t mSize;
    std::string const& mPath;
    size_t mPos{0};
};

} // namespace safetensors_detail

inline size_t dtype_size(std::string const& dtype)
{
    size_t const size = safetensors_detail::dtype_bytes(dtype);
    if (size == 0)
    {
        throw WeightsError("unknown safetensors dtype '" + dtype + "'");
    }
    return size;
}

class SafeTensors
{
public:
    explicit SafeTensors(std::string const& path) : mPath(path)
    {
        int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        require(fd >= 0, std::string("cannot open the weights file: ") + std::strerror(errno));
        struct stat info{};
        bool const regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
        size_t const size = regular ? static_cast<size_t>(info.st_size) : 0;
        // Under 8 bytes cannot even hold the header length (and mmap of 0 bytes would fail).
        void* const base = size >= 8 ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
        int const error = errno;
        ::close(fd);
        require(regular, "not a regular file");
        require(size >= 8, "truncated: " + std::to_string(size) + " bytes, too short for the 8-byte header length");
        require(base != MAP_FAILED, std::string("cannot map the weights file: ") + std::strerror(error));
        mMap.base = base;
        mMap.size = size;
        parse(static_cast<unsigned char const*>(base), size);
    }

    ~SafeTensors() = default; // mMap unmaps

    SafeTensors(SafeTensors const&) = delete;
    SafeTensors& operator=(SafeTensors const&) = delete;

    bool contains(std::string const& key) const
    {
        return mTensors.count(key) != 0;
    }

    TensorView const& at(std::string const& key) const
    {
        auto it = mTensors.find(key);
        require(it != mTensors.end(), "no tensor named '" + key + "' (regenerate the weights file with trtgen)");
        return it->second;
    }

    std::vector<std::string> keys() const
    {
        std::vector<std::string> out;
        for (auto const& entry : mTensors)
        {
            out.push_back(entry.first); // sorted, as std::map is
        }
        return out;
    }

    std::map<std::string, std::string> const& metadata() const
    {
        return mMetadata;
    }

    std::string const& path() const
    {
        return mPath;
    }

private:
    // Owns the mapping, so it is released even when the constructor throws half way.
    struct Mapping
    {
        void* base{nullptr};
        size_t size{0};

        ~Mapping()
        {
            if (base != nullptr)
            {
                ::munmap(base, size);
            }
        }
    };

    void require(bool ok, std::string const& what) const
    {
        if (!ok)
        {
            throw WeightsError(mPath + ": " + what);
        }
    }

    void parse(unsigned char const* bytes, size_t size)
    {
        uint64_t headerSize = 0;
        for (int i = 7; i >= 0; --i)
        {
            headerSize = headerSize << 8 | bytes[i]; // little-endian whatever the host
        }
        // Compared with what is left, as 8 + headerSize could wrap.
        require(headerSize <= size - 8, "truncated: the header length says " + std::to_string(headerSize) +
                                            " bytes but only " + std::to_string(size - 8) + " follow it");
        size_t const start = 8 + static_cast<size_t>(headerSize);
        safetensors_detail::Json json(reinterpret_cast<char const*>(bytes) + 8, start - 8, mPath);
        std::vector<std::tuple<size_t, size_t, std::string>> ranges; // non-empty ones, for the overlap check
        bool sawMetadata = false;
        json.list('{',
                  [&](std::string const& key)
                  {
                      if (key == "__metadata__" ? sawMetadata : mTensors.count(key) != 0)
                      {
                          json.fail("duplicate key '" + key + "'");
                      }
                      if (key == "__metadata__")
                      {
                          sawMetadata = true;
                          return metadata(json);
                      }
                      TensorView const& view = mTensors[key] = entry(json, key, bytes + start, size - start);
                      size_t const begin =
                          static_cast<size_t>(static_cast<unsigned char const*>(view.data) - (bytes + start));
                      if (view.nbytes > 0)
                      {
                          ranges.emplace_back(begin, begin + view.nbytes, key);
                      }
                  });
        json.end();
        // safetensors never shares bytes between tensors, so an overlap means a corrupt header.
        std::sort(ranges.begin(), ranges.end());
        for (size_t i = 1; i < ranges.size(); ++i)
        {
            auto const& [b0, e0, k0] = ranges[i - 1];
            auto const& [b1, e1, k1] = ranges[i];
            require(b1 >= e0, "tensors '" + k0 + "' [" + std::to_string(b0) + ", " + std::to_string(e0) + ") and '" +
                                  k1 + "' [" + std::to_string(b1) + ", " + std::to_string(e1) +
                                  ") overlap: the file is corrupt");
        }
    }

    // "__metadata__": {str: str}, or null. Values that are not strings are skipped.
    void metadata(safetensors_detail::Json& json)
    {
        json.where = "__metadata__";
        if (json.peek() == 'n')
        {
            json.skip();
        }
        else
        {
            json.list('{',
                      [&](std::string const& key)
                      {
                          if (json.peek() == '"')
                          {
                              mMetadata[key] = json.string();
                          }
                          else
                          {
                              json.skip();
                          }
                      });
        }
        json.where.clear();
    }

    TensorView entry(safetensors_detail::Json& json, std::string const& key, unsigned char const* data, size_t size)
    {
        using safetensors_detail::list_text;
        TensorView view;
        std::vector<int64_t> offsets;
        std::set<std::string> fields;
        std::string const name = "tensor '" + key + "'";
        json.where = name;
        json.list('{',
                  [&](std::string const& field)
                  {
                      if (!fields.insert(field).second)
                      {
                          json.fail("duplicate field '" + field + "'");
                      }
                      if (field == "dtype")
                      {
                          view.dtype = json.string();
                      }
                      else if (field == "shape" || field == "data_offsets")
                      {
                          (field == "shape" ? view.shape : offsets) = json.integers();
                      }
                      else
                      {
                          json.skip(); // other fields are ignored, as by the reference implementation
                      }
                  });
        json.where.clear();
        for (char const* field : {"dtype", "shape", "data_offsets"})
        {
            require(fields.count(field) != 0, name + ": the header entry has no '" + field + "'");
        }
        size_t const element = safetensors_detail::dtype_bytes(view.dtype);
        require(element != 0, name + ": unknown dtype '" + view.dtype + "'");
        std::string const shape = list_text(view.shape);
        require(std::all_of(view.shape.begin(), view.shape.end(), [](int64_t d) { return d >= 0; }),
                name + ": negative dimension in shape " + shape);
        require(offsets.size() == 2 && offsets[0] >= 0 && offsets[1] >= 0,
                name + ": data_offsets " + list_text(offsets) + " should be two byte offsets [begin, end]");
        uint64_t const begin = static_cast<uint64_t>(offsets[0]), end = static_cast<uint64_t>(offsets[1]);
        std::string const range = list_text(offsets, ")");
        require(begin <= end, name + ": data_offsets " + range + " end before they begin");
        require(end <= size, name + " data " + range + " runs past the end of the file (data section is " +
                                 std::to_string(size) + " bytes): the file is truncated or corrupt");
        // count * element, saturating rather than overflowing; a zero dimension makes it 0 whatever the rest.
        uint64_t const most = std::numeric_limits<uint64_t>::max();
        uint64_t need = std::count(view.shape.begin(), view.shape.end(), 0) ? 0 : element;
        for (int64_t d : view.shape)
        {
            uint64_t const u = static_cast<uint64_t>(std::max<int64_t>(d, 1));
            need = need > most / u ? most : need * u;
        }
        require(need == end - begin, name + ": shape " + shape + " of " + view.dtype + " needs " +
                                         (need == most ? "over 2^64" : std::to_string(need)) +
                                         " bytes, the file gives " + std::to_string(end - begin));
        view.data = data + begin;
        view.nbytes = static_cast<size_t>(need);
        return view;
    }

    std::string mPath;
    Mapping mMap;
    std::map<std::string, TensorView> mTensors;
    std::map<std::string, std::string> mMetadata;
};

} // namespace trtgen
