using System.Text;
using OpenVision.IO;
using OpenVision.ZeroShot;
using Xunit.Abstractions;

namespace OpenVision.Tests.Fuzz;

/// <summary>Seeded random text files (invalid UTF-8, NULs, long lines, CR/LF mixes, huge sizes against small caps) read as
/// line lists and template files: each reads or fails with a one-line <see cref="InputFileException"/> or
/// <see cref="InvalidDataException"/> naming the file, never another exception.</summary>
public sealed class TextFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-textfuzz-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void RandomTextFilesReadOrFailWithOneLine()
    {
        var tally = new FuzzTally();
        var random = new Random(5);
        var limits = new TextFileLimits { MaxBytes = 64 << 10, MaxLineLength = 4096 };
        for (int i = 0; i < 300; i++)
        {
            string path = Path.Combine(temp, $"case{i}.txt");
            var (kind, bytes) = Generate(random);
            File.WriteAllBytes(path, bytes);
            tally.Add(kind + " (lines)", Classify(path, () => InputFile.ReadLines(path, limits).Count(), out var d1), d1);
            tally.Add(kind + " (template list)", Classify(path, () => PromptSets.ReadList(path).Count, out var d2), d2);
        }
        output.WriteLine(tally.Table("read OK"));
        Assert.Empty(tally.Others);
    }

    private static int Classify(string path, Func<int> read, out string? detail)
    {
        detail = null;
        try { read(); return 0; }
        catch (Exception e) when (e is InputFileException or InvalidDataException && e.Message.StartsWith(path + ": ", StringComparison.Ordinal) && !e.Message.Contains('\n'))
        {
            return 1;
        }
        catch (Exception e)
        {
            detail = $"{path}: {e.GetType().Name}: {e.Message}";
            return 2;
        }
    }

    private static (string Kind, byte[] Bytes) Generate(Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                var noise = new byte[random.Next(0, 20_000)];
                random.NextBytes(noise);
                return ("random bytes", noise);
            case 1:
                return ("long line", Encoding.UTF8.GetBytes(new string('a', random.Next(3000, 6000)) + "\n{}"));
            case 2:
                var big = new byte[random.Next(60 << 10, 70 << 10)];
                big.AsSpan().Fill((byte)'\n');
                return ("near the size cap", big);
            case 3:
                var sb = new StringBuilder();
                for (int i = 0; i < random.Next(1, 50); i++) sb.Append("a photo of a {}.").Append(random.Next(3) switch { 0 => "\r\n", 1 => "\n", _ => "\r" });
                return ("CR/LF mixes", Encoding.UTF8.GetBytes(sb.ToString()));
            default:
                var utf8 = Encoding.UTF8.GetBytes("caf\u00e9 \u4e2d\u6587 {}\n\u0000\n");
                var cut = utf8[..random.Next(1, utf8.Length)];
                return ("truncated UTF-8", [0xEF, 0xBB, 0xBF, .. cut, 0xC3]);
        }
    }
}
