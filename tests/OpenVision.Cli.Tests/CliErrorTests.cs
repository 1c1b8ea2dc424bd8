using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.IO;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

// Every failure a user can cause is one line, "openvision: error: <file or field>: <problem>", with a documented exit
// code; the stack trace only with --verbose.
public sealed class CliErrorTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-cli-errors-").FullName;
    private static string Tiny => ReferenceModels.Folder("openvision-vit-tiny-patch16-160");
    private static string Truncated => ReferenceData.Path("preprocess", "images", "truncated.jpg");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    private static string OneErrorLine(Cli.Result result, int code)
    {
        Assert.True(result.ExitCode == code, $"exit {result.ExitCode}, expected {code}\n{result.Stdout}\n{result.Stderr}");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr:\n" + result.Stderr);
        Assert.StartsWith("openvision: error: ", lines[0]);
        return lines[0];
    }

    [Fact]
    public void UndecodableImagesNameTheFileInPreprocessAndClassify()
    {
        Assert.Equal($"openvision: error: {Truncated}: truncated JPEG: the data ends before the image is complete",
            OneErrorLine(Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-224", Truncated, "--output", Temp("p.npy")), 1));
        File.WriteAllText(Temp("x.png"), "hello");
        Assert.Equal($"openvision: error: {Temp("x.png")}: unknown image format (starts with \"hello\"); expected PNG, JPEG, GIF, BMP or WebP",
            OneErrorLine(Cli.Run("classify", "--model", Tiny, Temp("x.png"), "--labels", "cat", "dog"), 1));
        Assert.False(File.Exists(Temp("p.npy")));
    }

    [Fact]
    public void AnImageCutInsideItsSignatureIsATruncatedFile()
    {
        File.WriteAllBytes(Temp("soi.jpg"), [0xFF, 0xD8]);
        Assert.Equal($"openvision: error: {Temp("soi.jpg")}: truncated JPEG: the data ends after 2 bytes, inside the JPEG signature",
            OneErrorLine(Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-224", Temp("soi.jpg"), "--output", Temp("p.npy")), 1));
    }

    private static string Mini => ReferenceModels.Folder("ovtest-mini-p16-64");   // context 80, vocabulary 32,000

    private string WriteIds(string name, long[] shape, long value)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[count * sizeof(long)];
        for (long i = 0; i < count; i++) BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * sizeof(long))), value);
        NpyFile.Write(Temp(name), new TensorData(TensorDType.I64, shape, bytes));
        return Temp(name);
    }

    [Fact]
    public void TokenIdsOutsideTheVocabularyOrContextAreNamedWithTheirFile()
    {
        string oob = WriteIds("oob.npy", [1, 80], 99_999_999), negative = WriteIds("neg.npy", [1, 80], -5), longer = WriteIds("long.npy", [1, 500], 0);
        Assert.Equal($"openvision: error: {oob}: token id 99999999 at [0, 0] is outside the vocabulary (0..31999)",
            OneErrorLine(Cli.Run("embed", "--text-ids", oob, "--output", Temp("t.npy"), "--model", Mini), 1));
        Assert.Equal($"openvision: error: {negative}: token id -5 at [0, 0] is outside the vocabulary (0..31999)",
            OneErrorLine(Cli.Run("embed", "--text-ids", negative, "--output", Temp("t.npy"), "--model", Mini), 1));
        Assert.Equal($"openvision: error: {longer}: token ids must be [B, 80], got [1, 500]",
            OneErrorLine(Cli.Run("embed", "--text-ids", longer, "--output", Temp("t.npy"), "--model", Mini), 1));
        Assert.False(File.Exists(Temp("t.npy")));
        // Control: the largest id the vocabulary has is embedded.
        Assert.Equal(0, Cli.Run("embed", "--text-ids", WriteIds("last.npy", [1, 80], 31_999), "--output", Temp("t.npy"), "--model", Mini).ExitCode);
    }

    // The header of an .npy input promises far more data than the file holds: bad input (1), not a corrupt checkpoint (2).
    [Theory]
    [InlineData("--pixels", "<f4", "(1000000, 3, 64, 64)", "holds 100 data bytes but shape (1000000, 3, 64, 64) of F32 needs 49152000000")]
    [InlineData("--text-ids", "<i8", "(100000000000, 80)", "holds 100 data bytes but shape (100000000000, 80) of I64 needs 64000000000000")]
    public void AnNpyInputWhoseShapeOutgrowsItsDataIsBadInput(string option, string descr, string shape, string problem)
    {
        string path = Temp("huge.npy");
        using (var file = File.Create(path))
        {
            string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n";
            file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
            file.Write(System.Text.Encoding.Latin1.GetBytes(header));
            file.Write(new byte[100]);
        }
        Assert.Equal($"openvision: error: {path}: {problem}", OneErrorLine(Cli.Run("embed", option, path, "--output", Temp("o.npy"), "--model", Mini), 1));
    }

    // A hub that cannot be reached, or offline mode without the files, is the environment: exit 1 with the hub's line.
    [Theory]
    [InlineData("0", "cannot reach the hub")]
    [InlineData("1", "offline mode (HF_HUB_OFFLINE) and the file is not in the cache")]
    public void AnUnreachableHubIsBadInputNotABug(string offline, string problem)
    {
        var environment = new Dictionary<string, string>
        {
            ["HF_ENDPOINT"] = "http://127.0.0.1:1",   // nothing listens on port 1: refused at once
            ["HF_HUB_CACHE"] = Temp("hub"),
            ["HF_HUB_OFFLINE"] = offline,
        };
        string image = ReferenceData.Path("preprocess", "images", "block.png");
        var line = OneErrorLine(Cli.RunWithEnvironment(environment, "classify", image, "-l", "a", "-l", "b", "--model", "hf-hub:nosuch/model"), 1);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("unexpected", line);
    }

    [Fact]
    public void FifosAndDevicesAreRefusedNotRead()
    {
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Temp("f.png"))) mkfifo.WaitForExit();
        Assert.Contains("f.png: not a regular file (a FIFO)", OneErrorLine(Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-224", Temp("f.png"), "--output", Temp("p.npy")), 1));
        Assert.Contains("/dev/zero: not a regular file (a character device)", OneErrorLine(Cli.Run("tokenize", "--model", "openvision-vit-tiny-patch16-224", "--jsonl", "/dev/zero", "--output", Temp("i.npy")), 1));
    }

    [Fact]
    public void HugeConfigValuesAreRefusedByInfoWithTheLimit()
    {
        var tiny = ModelRegistry.Get("openvision-vit-tiny-patch16-224");
        File.WriteAllText(Temp("big.json"), ConfigJson.ToHubJson(tiny with { TextCfg = tiny.TextCfg with { ContextLength = 1_000_000_000 } }));
        Assert.Contains("text_cfg.context_length 1000000000 is over the limit of 4,096", OneErrorLine(Cli.Run("info", "--model", Temp("big.json")), 1));
        File.WriteAllText(Temp("dup.json"), ConfigJson.ToHubJson(tiny).Replace("\"embed_dim\"", "\"embed_dim\": 1, \"embed_dim\""));
        Assert.Contains("dup.json: invalid JSON: duplicate key 'embed_dim'", OneErrorLine(Cli.Run("info", "--model", Temp("dup.json")), 1));
        Assert.Contains("--image-size 1000000 must be between 1 and 4096", OneErrorLine(Cli.Run("info", "--model", "openvision-vit-tiny-patch16-224", "--size", "1000000"), 1));
        Assert.Equal(0, Cli.Run("info", "--model", "openvision-vit-tiny-patch16-224", "--size", "4096").ExitCode);   // control: at the limit
    }

    [Fact]
    public void AFolderOfOnlyBadImagesIsOneLine()
    {
        Directory.CreateDirectory(Temp("bad"));
        File.Copy(Truncated, Temp("bad/truncated.jpg"));
        File.WriteAllText(Temp("bad/x.png"), "hello");
        var line = OneErrorLine(Cli.Run("embed", "--model", Tiny, "--images", Temp("bad"), "--output", Temp("o.npy")), 1);
        Assert.Contains("none of the 2 images could be read (first: ", line);
        Assert.Empty(Directory.GetFiles(temp));
    }

    [Fact]
    public void AGarbledShardPlanIsNamed()
    {
        Directory.CreateDirectory(Temp("job"));
        File.WriteAllText(Temp("job/plan.json"), "{\"shards\": 3, \"shard");
        Assert.Contains($"{Temp("job/plan.json")}: corrupt job plan (not valid JSON at line 1)", OneErrorLine(Cli.Run("embed-merge", Temp("job")), 1));
    }

    [Fact]
    public void ParseErrorsAreOneLineNamingTheHelp()
    {
        var line = OneErrorLine(Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-224"), 1);
        Assert.EndsWith("(see 'openvision preprocess --help')", line);
    }

    [Fact]
    public void VerbosePrintsTheStackTraceAfterTheLine()
    {
        var result = Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-224", Truncated, "--output", Temp("p.npy"), "--verbose");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("openvision: error: ", result.Stderr);
        Assert.Contains("   at OpenVision.", result.Stderr);
        Assert.DoesNotContain("   at ", Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-224", Truncated, "--output", Temp("p.npy")).Stderr);
    }

    [Fact]
    public void HelpNamesTheToolAndListsExitCodes()
    {
        var result = Cli.Run("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("openvision [command] [options]", result.Stdout);
        Assert.DoesNotContain("OpenVision.Cli", result.Stdout);
        Assert.Contains("130 interrupted", result.Stdout);
        Assert.Contains("--verbose", result.Stdout);
    }

    [Fact]
    public void ModelsPrintsExactParameterCounts()
    {
        var result = Cli.Run("models");
        Assert.Equal(0, result.ExitCode);
        var row = result.Stdout.Split('\n').Single(l => l.StartsWith("openvision-vit-tiny-patch8-384 ", StringComparison.Ordinal));
        Assert.Contains(" 5,855,232 ", row);   // the paper's Ti/8-384 vision count
    }

    // Seeded JSONL mutations through the real command: each run succeeds or fails with one line, never a trace.
    [Fact]
    public void MutatedJsonlIsTokenizedOrRefusedInOneLine()
    {
        var random = new Random(11);
        string[] lines = ["\"a photo of a dog.\"", "\"caf\\u00e9\"", "\"\"", "\"tench\""];
        int ok = 0, refused = 0;
        for (int i = 0; i < 12; i++)
        {
            var text = string.Join("\n", lines).ToCharArray().ToList();
            for (int k = 0; k < 1 + random.Next(3); k++)
            {
                int at = random.Next(text.Count);
                switch (random.Next(3))
                {
                    case 0: text.RemoveAt(at); break;
                    case 1: text.Insert(at, "{}[]\"\\,:0n\u0000"[random.Next(12)]); break;
                    default: text = text.Take(at).ToList(); break;
                }
            }
            File.WriteAllText(Temp($"t{i}.jsonl"), new string([.. text]));
            var result = Cli.Run("tokenize", "--model", "openvision-vit-tiny-patch16-224", "--jsonl", Temp($"t{i}.jsonl"), "--output", Temp($"t{i}.npy"));
            if (result.ExitCode == 0) { ok++; continue; }
            Assert.Contains($"t{i}.jsonl", OneErrorLine(result, 1));
            refused++;
        }
        Assert.Equal(12, ok + refused);
        Assert.True(refused > 0, "no mutation was refused: the mutations are too weak to test anything");
    }
}
