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
        // Zero first: [0, huge, huge] is a valid empty tensor whose partial products would overflow.
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

// Bytes for a key or value in a one-line message: control characters as \xNN.
inline std::string shown(std::string const& text)
{
    static char const hex[] = "0123456789abcdef";
    std::string out;
    for (char c : text)
    {
        auto const u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
        {
            out += std::string("\\x") + hex[u >> 4] + hex[u & 15];
        }
        else
        {
            out += c;
        }
    }
    return out;
}

// The offset of the first byte that does not start valid UTF-8 (no overlong forms, no surrogates), or `size`.
inline size_t utf8_error(unsigned char const* text, size_t size)
{
    size_t i = 0;
    while (i < size)
    {
        unsigned const c = text[i];
        if (c < 0x80)
        {
            ++i;
            continue;
        }
        size_t length = 0;
        unsigned low = 0x80, high = 0xBF; // the second byte's range
        if (c >= 0xC2 && c <= 0xDF)
        {
            length = 2;
        }
        else if (c >= 0xE0 && c <= 0xEF)
        {
            length = 3;
            low = c == 0xE0 ? 0xA0 : 0x80;
            high = c == 0xED ? 0x9F : 0xBF;
        }
        else if (c >= 0xF0 && c <= 0xF4)
        {
            length = 4;
            low = c == 0xF0 ? 0x90 : 0x80;
            high = c == 0xF4 ? 0x8F : 0xBF;
        }
        if (length == 0 || i + 1 >= size || text[i + 1] < low || text[i + 1] > high)
        {
            return i;
        }
        for (size_t k = 2; k < length; ++k)
        {
            if (i + k >= size || text[i + k] < 0x80 || text[i + k] > 0xBF)
            {
                return i;
            }
        }
        i += length;
    }
    return size;
}

// A parsed JSON value. Numbers keep their text; objects keep every member in file order, duplicates
// included, so the checks after parsing can name them.
struct Value
{
    enum Kind
    {
        kNull,
        kBool,
        kNumber,
        kString,
        kArray,
        kObject
    };
    Kind kind{kNull};
    std::string text;              // a string's value or a number's literal
    std::vector<std::string> keys; // an object's member names, parallel to items
    std::vector<Value> items;      // an array's items or an object's member values

    // A non-negative integer below 2^63 (as TensorRT dimensions are int64), into `out`.
    bool index(int64_t& out) const
    {
        if (kind != kNumber || text.empty() || text.size() > 19 ||
            text.find_first_not_of("0123456789") != std::string::npos)
        {
            return false;
        }
        uint64_t value = 0;
        for (char c : text)
        {
            value = value * 10 + static_cast<uint64_t>(c - '0'); // 19 digits fit in 64 bits
        }
        out = static_cast<int64_t>(value);
        return value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    }
};

// A strict JSON parser over the header bytes, just enough for safetensors. Positions in errors are file
// offsets (header position + 8) to match a hex dump.
class Json
{
public:
    static constexpr int kMaxNesting = 128;

    Json(char const* text, size_t size, std::string const& path) : mText(text), mSize(size), mPath(path) {}

    Value document()
    {
        Value top = value(0);
        check(peek() == '\0' && mPos == mSize, "unexpected text after the header object");
        return top;
    }

private:
    [[noreturn]] void fail(std::string const& what) const
    {
        throw WeightsError(mPath + ": bad header JSON at byte " + std::to_string(mPos + 8) + ": " + what);
    }

    void check(bool ok, char const* what) const
    {
        if (!ok)
        {
            fail(what);
        }
    }

    // The next byte after blanks, '\0' at the end.
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

    Value value(int depth)
    {
        Value out;
        char const c = peek();
        char const* const word = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : nullptr;
        if (c == '"')
        {
            out.kind = Value::kString;
            out.text = string();
        }
        else if (c == '{' || c == '[')
        {
            check(depth < kMaxNesting, "values nested too deeply");
            bool const object = c == '{';
            out.kind = object ? Value::kObject : Value::kArray;
            ++mPos;
            if (eat(object ? '}' : ']'))
            {
                return out;
            }
            do
            {
                if (object)
                {
                    out.keys.push_back(string());
                    check(eat(':'), "expected ':'");
                }
                out.items.push_back(value(depth + 1));
            } while (eat(','));
            check(eat(object ? '}' : ']'), object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        else if (word != nullptr)
        {
            size_t const n = std::strlen(word);
            check(mSize - mPos >= n && std::memcmp(mText + mPos, word, n) == 0, "expected a value");
            mPos += n;
            out.kind = c == 'n' ? Value::kNull : Value::kBool;
        }
        else
        {
            size_t const first = mPos;
            number();
            out.kind = Value::kNumber;
            out.text.assign(mText + first, mPos - first);
        }
        return out;
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

    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    void number()
    {
        mPos += at() == '-' ? 1u : 0u;
        size_t const first = mPos, n = digits();
        check(n == 1 || (n > 1 && mText[first] != '0'), n == 0 ? "expected a value" : "leading zero in a number");
        bool const fraction = at() == '.';
        mPos += fraction ? 1u : 0u;
        check(!fraction || digits() > 0, "malformed number");
        bool const exponent = at() == 'e' || at() == 'E';
        mPos += exponent ? (at(1) == '+' || at(1) == '-' ? 2u : 1u) : 0u;
        check(!exponent || digits() > 0, "malformed number");
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

    // The checks, in the order layers/weights_file.py makes them and with the same messages.
    void parse(unsigned char const* bytes, size_t size)
    {
        using safetensors_detail::list_text;
        using safetensors_detail::shown;
        uint64_t headerSize = 0;
        for (int i = 7; i >= 0; --i)
        {
            headerSize = headerSize << 8 | bytes[i]; // little-endian whatever the host
        }
        require(headerSize <= kMaxHeaderBytes, "the header length field says " + std::to_string(headerSize) +
                                                   " bytes, over the " + std::to_string(kMaxHeaderBytes) +
                                                   "-byte limit: not a safetensors file, or corrupt");
        // Compared with what is left, as 8 + headerSize could wrap.
        require(headerSize <= size - 8, "truncated: the header length says " + std::to_string(headerSize) +
                                            " bytes but only " + std::to_string(size - 8) + " follow it");
        size_t const start = 8 + static_cast<size_t>(headerSize);
        size_t const bad = safetensors_detail::utf8_error(bytes + 8, start - 8);
        require(bad == start - 8, "header is not valid UTF-8 at byte " + std::to_string(bad + 8));
        safetensors_detail::Value const top =
            safetensors_detail::Json(reinterpret_cast<char const*>(bytes) + 8, start - 8, mPath).document();
        require(top.kind == safetensors_detail::Value::kObject, "bad header JSON: the header is not a JSON object");
        size_t const dataSize = size - start;
        std::set<std::string> seen;
        std::vector<std::tuple<int64_t, int64_t, std::string>> ranges;
        for (size_t i = 0; i < top.keys.size(); ++i)
        {
            std::string const& key = top.keys[i];
            require(seen.insert(key).second, "duplicate key '" + shown(key) + "' in the header");
            if (key == "__metadata__")
            {
                metadata(top.items[i]);
                continue;
            }
            int64_t begin = 0, end = 0;
            mTensors[key] = entry(key, top.items[i], dataSize, begin, end);
            mTensors[key].data = bytes + start + begin;
            ranges.emplace_back(begin, end, key);
        }
        // The tensors tile the data section: sorted, each begins where the one before ends, from 0 to its end.
        std::sort(ranges.begin(), ranges.end());
        int64_t reached = 0;
        std::tuple<int64_t, int64_t, std::string> const* last = nullptr;
        for (auto const& range : ranges)
        {
            auto const& [b, e, key] = range;
            require(b <= reached, "bytes [" + std::to_string(reached) + ", " + std::to_string(b) +
                                      ") of the data section belong to no tensor: the file is corrupt");
            if (b < reached) // so there is a tensor before this one
            {
                auto const& [lb, le, lkey] = *last;
                require(false, "tensors '" + shown(lkey) + "' " + list_text({lb, le}, ")") + " and '" + shown(key) +
                                   "' " + list_text({b, e}, ")") + " overlap: the file is corrupt");
            }
            reached = e;
            last = &range;
        }
        require(static_cast<uint64_t>(reached) == dataSize,
                "the tensors end at byte " + std::to_string(reached) + " of the " + std::to_string(dataSize) +
                    "-byte data section: the header length is wrong or the file has trailing bytes");
    }

    // "__metadata__": null, or an object of strings.
    void metadata(safetensors_detail::Value const& value)
    {
        using safetensors_detail::Value;
        if (value.kind == Value::kNull)
        {
            return;
        }
        require(value.kind == Value::kObject, "__metadata__ is not a map of strings");
        for (size_t i = 0; i < value.keys.size(); ++i)
        {
            std::string const& key = value.keys[i];
            require(mMetadata.count(key) == 0, "__metadata__: duplicate key '" + safetensors_detail::shown(key) + "'");
            require(value.items[i].kind == Value::kString,
                    "__metadata__: the value of '" + safetensors_detail::shown(key) + "' is not a string");
            mMetadata[key] = value.items[i].text;
        }
    }

    TensorView entry(std::string const& key, safetensors_detail::Value const& value, size_t dataSize,
                     int64_t& begin, int64_t& end)
    {
        using safetensors_detail::list_text;
        using safetensors_detail::shown;
        using safetensors_detail::Value;
        std::string const name = "tensor '" + shown(key) + "'";
        require(value.kind == Value::kObject, name + ": the header entry is not an object");
        std::map<std::string, Value const*> fields; // fields other than the three are ignored, as by the reference
        for (size_t i = 0; i < value.keys.size(); ++i)
        {
            require(fields.emplace(value.keys[i], &value.items[i]).second,
                    name + ": duplicate field '" + shown(value.keys[i]) + "'");
        }
        for (char const* field : {"dtype", "shape", "data_offsets"})
        {
            require(fields.count(field) != 0, name + ": the header entry has no '" + field + "'");
        }
        Value const& dtype = *fields["dtype"];
        Value const& shape = *fields["shape"];
        Value const& offsets = *fields["data_offsets"];
        require(dtype.kind == Value::kString, name + ": dtype is not a string");
        size_t const element = safetensors_detail::dtype_bytes(dtype.text);
        require(element != 0, name + ": unknown dtype '" + shown(dtype.text) + "'");
        TensorView view;
        view.dtype = dtype.text;
        bool ok = shape.kind == Value::kArray;
        for (size_t i = 0; ok && i < shape.items.size(); ++i)
        {
            int64_t d = 0;
            ok = shape.items[i].index(d);
            view.shape.push_back(d);
        }
        require(ok, name + ": shape is not a list of non-negative integers");
        ok = offsets.kind == Value::kArray && offsets.items.size() == 2 && offsets.items[0].index(begin) &&
             offsets.items[1].index(end);
        require(ok, name + ": data_offsets is not two non-negative integers [begin, end]");
        std::string const span = list_text({begin, end}, ")");
        require(begin <= end, name + ": data_offsets " + span + " end before they begin");
        // In order, overflowing as the reference's checked 64-bit product of elements and then bits does.
        uint64_t const most = std::numeric_limits<uint64_t>::max();
        uint64_t count = 1;
        bool overflow = false;
        for (int64_t d : view.shape)
        {
            uint64_t const u = static_cast<uint64_t>(d);
            overflow = overflow || (u != 0 && count > most / u);
            count = overflow ? count : count * u;
        }
        overflow = overflow || count > most / (element * 8);
        std::string const shapeText = list_text(view.shape);
        require(!overflow, name + ": shape " + shapeText + " of " + view.dtype + " is over 2^64 bytes");
        uint64_t const need = count * element;
        require(need == static_cast<uint64_t>(end - begin), name + ": data_offsets " + span +
                                                                 " do not match its shape " + shapeText + " " +
                                                                 view.dtype + " (" + std::to_string(need) +
                                                                 " bytes)");
        require(static_cast<uint64_t>(end) <= dataSize,
                name + ": data_offsets " + span + " run past the end of the " + std::to_string(dataSize) +
                    "-byte data section: the file is truncated or corrupt");
        view.nbytes = static_cast<size_t>(need);
        return view;
    }

    static constexpr uint64_t kMaxHeaderBytes = 100000000; // as the reference safetensors implementation

    std::string mPath;
    Mapping mMap;
    std::map<std::string, TensorView> mTensors;
    std::map<std::string, std::string> mMetadata;
};

// The rule layers' Module.load_weights follows too: every key the network reads must be in the file, and a
// key it does not declare is an error unless it is PyTorch bookkeeping (*.num_batches_tracked), which a
// full state_dict carries. Returns the message (without the file name), or "" when the keys are fine.
inline bool is_bookkeeping(std::string const& key)
{
    std::string const suffix = "num_batches_tracked";
    return key == suffix || (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(),
                                                                      suffix) == 0 &&
                             key[key.size() - suffix.size() - 1] == '.');
}

inline std::string key_problems(std::set<std::string> const& keys, std::set<std::string> const& declared,
                                std::string const& what = "weights")
{
    std::vector<std::string> missing, extra;
    for (std::string const& key : declared)
    {
        if (keys.count(key) == 0)
        {
            missing.push_back(safetensors_detail::shown(key));
        }
    }
    for (std::string const& key : keys)
    {
        if (declared.count(key) == 0 && !is_bookkeeping(key))
        {
            extra.push_back(safetensors_detail::shown(key));
        }
    }
    auto const joined = [](std::vector<std::string> const& list)
    {
        std::string out;
        for (std::string const& key : list)
        {
            out += (out.empty() ? "" : ", ") + key;
        }
        return out;
    };
    if (!missing.empty())
    {
        return what + " are missing " + std::to_string(missing.size()) + " key(s): " + joined(missing);
    }
    if (!extra.empty())
    {
        return what + " have " + std::to_string(extra.size()) + " key(s) the model does not declare: " +
               joined(extra) + " (only *.num_batches_tracked may be left in)";
    }
    return "";
}

} // namespace trtgen
