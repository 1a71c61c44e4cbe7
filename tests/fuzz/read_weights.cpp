// Reads safetensors files with trtgen_safetensors.h alone (no TensorRT) and prints what it read.
//
//   read_weights FILE [--expect KEYS]   a dump of FILE, or one "error: ..." line; exit 0 read, 1 rejected.
//                                       KEYS (one key a line) are the keys a network declares: the file's
//                                       keys are checked against them as network.cpp's builder does.
//   read_weights --batch LIST           the same for every file named in LIST (one path a line), each
//                                       after a "== PATH" line; exit 0 once all are done.
//
// A dump is one line per tensor, "tensor KEY DTYPE [SHAPE] DATA", then one per metadata entry,
// "metadata KEY VALUE", keys in byte order; keys, values and data in hex.
#include "trtgen_safetensors.h"

#include <fstream>
#include <iostream>
#include <set>
#include <string>

namespace
{

std::string hex(void const* data, size_t size)
{
    static char const digits[] = "0123456789abcdef";
    std::string out;
    auto const* bytes = static_cast<unsigned char const*>(data);
    for (size_t i = 0; i < size; ++i)
    {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out.empty() ? "-" : out;
}

std::string hex(std::string const& text)
{
    return hex(text.data(), text.size());
}

// Prints the dump or the error; returns whether the file was read (and its keys fit `expected`).
bool read(std::string const& path, std::set<std::string> const* expected)
{
    try
    {
        trtgen::SafeTensors file(path);
        if (expected != nullptr)
        {
            std::vector<std::string> const keys = file.keys();
            std::string const problem = trtgen::key_problems({keys.begin(), keys.end()}, *expected);
            if (!problem.empty())
            {
                throw trtgen::WeightsError(path + ": " + problem);
            }
        }
        for (std::string const& key : file.keys())
        {
            trtgen::TensorView const& t = file.at(key);
            std::cout << "tensor " << hex(key) << " " << t.dtype << " "
                      << trtgen::safetensors_detail::list_text(t.shape) << " " << hex(t.data, t.nbytes) << "\n";
        }
        for (auto const& [key, value] : file.metadata())
        {
            std::cout << "metadata " << hex(key) << " " << hex(value) << "\n";
        }
        return true;
    }
    catch (trtgen::WeightsError const& e)
    {
        std::cout << "error: " << e.what() << "\n";
        return false;
    }
}

std::set<std::string> lines(std::string const& path)
{
    std::ifstream in(path);
    if (!in)
    {
        throw std::runtime_error("cannot read " + path);
    }
    std::set<std::string> out;
    for (std::string line; std::getline(in, line);)
    {
        out.insert(line);
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    std::string const first = argc > 1 ? argv[1] : "";
    try
    {
        if (argc == 3 && first == "--batch")
        {
            std::ifstream list(argv[2]);
            if (!list)
            {
                throw std::runtime_error(std::string("cannot read ") + argv[2]);
            }
            for (std::string path; std::getline(list, path);)
            {
                std::cout << "== " << path << "\n";
                read(path, nullptr);
            }
            return 0;
        }
        if (argc == 2 || (argc == 4 && std::string(argv[2]) == "--expect"))
        {
            std::set<std::string> const expected = argc == 4 ? lines(argv[3]) : std::set<std::string>{};
            return read(first, argc == 4 ? &expected : nullptr) ? 0 : 1;
        }
    }
    catch (std::exception const& e)
    {
        std::cerr << "read_weights: " << e.what() << "\n";
        return 2;
    }
    std::cerr << "usage: read_weights FILE [--expect KEYS] | read_weights --batch LIST\n";
    return 2;
}
