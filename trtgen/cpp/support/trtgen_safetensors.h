// A small safetensors reader for trtgen's generated C++ builders: maps the file read-only,
// parses the JSON header and checks every tensor's dtype, shape and byte range against the file.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
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
    void const* data{nullptr};
    size_t nbytes{0};

    int64_t count() const
    {
        int64_t n = 1;
        for (int64_t d : shape)
        {
            n *= d;
        }
        return n;
    }
};

inline size_t dtype_size(std::string const& dtype)
{
    static std::map<std::string, size_t> const sizes{{"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4},
        {"U32", 4}, {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1},
        {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    auto it = sizes.find(dtype);
    if (it == sizes.end())
    {
        throw WeightsError("unknown safetensors dtype '" + dtype + "'");
    }
    return it->second;
}

namespace safetensors_detail
{

// A strict reader for the subset of JSON a safetensors header uses.
class Json
{
public:
    Json(std::string const& text, std::string const& path)
        : mText(text)
        , mPath(path)
    {
    }

    [[noreturn]] void fail(std::string const& what) const
    {
        throw WeightsError(mPath + ": bad header JSON at byte " + std::to_string(mPos + 8) + ": " + what);
    }

    void space()
    {
        while (mPos < mText.size() && std::strchr(" \t\r\n", mText[mPos]) != nullptr && mText[mPos] != '\0')
        {
            ++mPos;
        }
    }

    bool peek(char c)
    {
        space();
        return mPos < mText.size() && mText[mPos] == c;
    }

    void expect(char c)
    {
        if (!peek(c))
        {
            fail(std::string("expected '") + c + "'");
        }
        ++mPos;
    }

    std::string string()
    {
        expect('"');
        std::string out;
        while (mPos < mText.size() && mText[mPos] != '"')
        {
            char c = mText[mPos++];
            if (c == '\\')
            {
                if (mPos >= mText.size())
                {
                    break;
                }
                char e = mText[mPos++];
                static std::map<char, char> const escapes{
                    {'"', '"'}, {'\\', '\\'}, {'/', '/'}, {'b', '\b'}, {'f', '\f'}, {'n', '\n'}, {'r', '\r'}, {'t', '\t'}};
                if (e == 'u')
                {
                    out += unicode();
                    continue;
                }
                auto it = escapes.find(e);
                if (it == escapes.end())
                {
                    fail("bad escape in string");
                }
                c = it->second;
            }
            out += c;
        }
        expect('"');
        return out;
    }

    int64_t integer()
    {
        space();
        size_t const start = mPos;
        uint64_t value = 0;
        while (mPos < mText.size() && mText[mPos] >= '0' && mText[mPos] <= '9')
        {
            uint64_t const digit = static_cast<uint64_t>(mText[mPos++] - '0');
            if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10)
            {
                fail("integer out of range");
            }
            value = value * 10 + digit;
        }
        if (mPos == start)
        {
            fail("expected a non-negative integer");
        }
        return static_cast<int64_t>(value);
    }

    std::vector<int64_t> integers()
    {
        std::vector<int64_t> values;
        expect('[');
        if (!peek(']'))
        {
            do
            {
                values.push_back(integer());
            } while (next());
        }
        expect(']');
        return values;
    }

    // Skip any JSON value (metadata may hold numbers or nested values).
    void skip()
    {
        space();
        if (peek('"'))
        {
            string();
        }
        else if (peek('{') || peek('['))
        {
            char const close = mText[mPos] == '{' ? '}' : ']';
            bool const object = close == '}';
            ++mPos;
            if (!peek(close))
            {
                do
                {
                    if (object)
                    {
                        string();
                        expect(':');
                    }
                    skip();
                } while (next());
            }
            expect(close);
        }
        else
        {
            size_t const start = mPos;
            while (mPos < mText.size() && std::strchr(",}] \t\r\n", mText[mPos]) == nullptr)
            {
                ++mPos;
            }
            if (mPos == start)
            {
                fail("expected a value");
            }
        }
    }

    bool next()
    {
        if (peek(','))
        {
            ++mPos;
            return true;
        }
        return false;
    }

    bool done()
    {
        space();
        return mPos == mText.size();
    }

private:
    std::string unicode()
    {
        if (mPos + 4 > mText.size())
        {
            fail("short \\u escape");
        }
        uint32_t code = static_cast<uint32_t>(std::stoul(mText.substr(mPos, 4), nullptr, 16));
        mPos += 4;
        std::string out;
        if (code < 0x80)
        {
            out += static_cast<char>(code);
        }
        else if (code < 0x800)
        {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
        else
        {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
        return out;
    }

    std::string const& mText;
    std::string const& mPath;
    size_t mPos{0};
};

} // namespace safetensors_detail

class SafeTensors
{
public:
    explicit SafeTensors(std::string const& path)
        : mPath(path)
    {
        map();
        parse();
    }

    ~SafeTensors()
    {
        if (mBase != nullptr)
        {
            munmap(mBase, mSize);
        }
    }

    SafeTensors(SafeTensors const&) = delete;
    SafeTensors& operator=(SafeTensors const&) = delete;

    bool contains(std::string const& key) const
    {
        return mTensors.count(key) != 0;
    }

    TensorView const& at(std::string const& key) const
    {
        auto it = mTensors.find(key);
        if (it == mTensors.end())
        {
            throw WeightsError(mPath + ": no tensor named '" + key + "' (regenerate weights.safetensors with trtgen)");
        }
        return it->second;
    }

    std::vector<std::string> keys() const
    {
        std::vector<std::string> out;
        for (auto const& entry : mTensors)
        {
            out.push_back(entry.first);
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
    void map()
    {
        int fd = open(mPath.c_str(), O_RDONLY);
        if (fd < 0)
        {
            throw WeightsError(mPath + ": cannot open the weights file");
        }
        struct stat info
        {
        };
        if (fstat(fd, &info) != 0)
        {
            close(fd);
            throw WeightsError(mPath + ": cannot read the weights file");
        }
        mSize = static_cast<size_t>(info.st_size);
        if (mSize < 8)
        {
            close(fd);
            throw WeightsError(mPath + ": truncated: " + std::to_string(mSize) + " bytes, a safetensors file has at least 8");
        }
        void* base = mmap(nullptr, mSize, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (base == MAP_FAILED)
        {
            throw WeightsError(mPath + ": cannot map the weights file");
        }
        mBase = base;
    }

    void parse()
    {
        auto const* bytes = static_cast<unsigned char const*>(mBase);
        uint64_t headerSize = 0;
        for (int i = 7; i >= 0; --i)
        {
            headerSize = headerSize << 8 | bytes[i];
        }
        if (headerSize > mSize - 8)
        {
            throw WeightsError(mPath + ": truncated: the header says " + std::to_string(headerSize)
                + " bytes but the file has " + std::to_string(mSize - 8) + " after the length");
        }
        std::string const header(reinterpret_cast<char const*>(bytes + 8), static_cast<size_t>(headerSize));
        size_t const dataStart = 8 + static_cast<size_t>(headerSize);
        size_t const dataSize = mSize - dataStart;
        safetensors_detail::Json json(header, mPath);
        json.expect('{');
        if (!json.peek('}'))
        {
            do
            {
                std::string const key = json.string();
                json.expect(':');
                if (key == "__metadata__")
                {
                    metadata(json);
                    continue;
                }
                TensorView view = entry(json, key);
                std::vector<int64_t> const& offsets = mOffsets;
                uint64_t const begin = static_cast<uint64_t>(offsets[0]);
                uint64_t const end = static_cast<uint64_t>(offsets[1]);
                if (end < begin || end > dataSize)
                {
                    throw WeightsError(mPath + ": tensor '" + key + "' data [" + std::to_string(begin) + ", "
                        + std::to_string(end) + ") runs past the end of the file (data section is "
                        + std::to_string(dataSize) + " bytes): the file is truncated or corrupt");
                }
                uint64_t need = dtype_size(view.dtype);
                for (int64_t d : view.shape)
                {
                    if (d != 0 && need > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d))
                    {
                        throw WeightsError(mPath + ": tensor '" + key + "': shape too large");
                    }
                    need *= static_cast<uint64_t>(d);
                }
                if (need != end - begin)
                {
                    throw WeightsError(mPath + ": tensor '" + key + "': " + view.dtype + " " + text(view.shape)
                        + " needs " + std::to_string(need) + " bytes, the file gives " + std::to_string(end - begin));
                }
                view.data = bytes + dataStart + begin;
                view.nbytes = static_cast<size_t>(need);
                mTensors[key] = view;
            } while (json.next());
        }
        json.expect('}');
        if (!json.done())
        {
            json.fail("unexpected text after the header object");
        }
    }

    void metadata(safetensors_detail::Json& json)
    {
        json.expect('{');
        if (!json.peek('}'))
        {
            do
            {
                std::string const key = json.string();
                json.expect(':');
                if (json.peek('"'))
                {
                    mMetadata[key] = json.string();
                }
                else
                {
                    json.skip();
                }
            } while (json.next());
        }
        json.expect('}');
    }

    TensorView entry(safetensors_detail::Json& json, std::string const& key)
    {
        TensorView view;
        bool hasDtype = false, hasShape = false, hasOffsets = false;
        json.expect('{');
        if (!json.peek('}'))
        {
            do
            {
                std::string const field = json.string();
                json.expect(':');
                if (field == "dtype")
                {
                    view.dtype = json.string();
                    dtype_size(view.dtype);
                    hasDtype = true;
                }
                else if (field == "shape")
                {
                    view.shape = json.integers();
                    hasShape = true;
                }
                else if (field == "data_offsets")
                {
                    mOffsets = json.integers();
                    hasOffsets = mOffsets.size() == 2;
                }
                else
                {
                    json.skip();
                }
            } while (json.next());
        }
        json.expect('}');
        if (!hasDtype || !hasShape || !hasOffsets)
        {
            throw WeightsError(mPath + ": tensor '" + key + "' needs dtype, shape and two data_offsets in the header");
        }
        return view;
    }

    static std::string text(std::vector<int64_t> const& shape)
    {
        std::string out = "[";
        for (size_t i = 0; i < shape.size(); ++i)
        {
            out += (i ? ", " : "") + std::to_string(shape[i]);
        }
        return out + "]";
    }

    std::string mPath;
    void* mBase{nullptr};
    size_t mSize{0};
    std::vector<int64_t> mOffsets;
    std::map<std::string, TensorView> mTensors;
    std::map<std::string, std::string> mMetadata;
};

} // namespace trtgen
