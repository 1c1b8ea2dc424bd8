using System.Diagnostics;
using System.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Tests.Data;

public class TarShardTests
{
    [Fact]
    public void WriterAndReaderRoundTripEveryFileByKey()
    {
        using var dir = new TempDirectory();
        string pattern = DataFixtures.WriteShards(dir.Path, count: 25, perShard: 10);
        var shards = BraceExpansion.Expand(pattern);
        Assert.Equal(3, shards.Count);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        var skips = new SkipLog();
        var samples = shards.SelectMany(s => { using var f = File.OpenRead(s); return TarSampleReader.Read(f, s, skips).ToList(); }).ToList();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"s{i:D7}"), samples.Select(s => s.Key));
        for (int i = 0; i < 25; i++)
        {
            var expected = DataFixtures.Sample(i, label: i % 10);
            Assert.Equal(expected.Keys.Order(), samples[i].Files.Keys.Order());
            foreach (var (ext, bytes) in expected) Assert.Equal(bytes, samples[i].Files[ext]);
        }
        Assert.Equal(0, skips.Count);
    }

    [Fact]
    public void ShardsAreByteIdenticalBetweenRuns()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        var first = BraceExpansion.Expand(DataFixtures.WriteShards(a.Path, 7, 4));
        var second = BraceExpansion.Expand(DataFixtures.WriteShards(b.Path, 7, 4));
        for (int i = 0; i < first.Count; i++) Assert.Equal(File.ReadAllBytes(first[i]), File.ReadAllBytes(second[i]));
    }

    [Theory]
    [InlineData("abc.jpg", "abc", "jpg")]
    [InlineData("dir/sub/abc.seg.PNG", "dir/sub/abc", "seg.png")]
    [InlineData("./abc.txt", "abc", "txt")]
    [InlineData("a.b/c.d.json", "a.b/c", "d.json")]
    public void SplitsNamesLikeWebDataset(string name, string key, string extension)
    {
        Assert.True(TarSampleReader.SplitName(name, out string k, out string e));
        Assert.Equal((key, extension), (k, e));
    }

    [Theory]
    [InlineData("noextension")]
    [InlineData("dir/.hidden")]
    [InlineData("__key__")]
    [InlineData("dir/")]
    public void IgnoresNamesWebDatasetIgnores(string name) => Assert.False(TarSampleReader.SplitName(name, out _, out _));

    [Fact]
    public void GroupsConsecutiveFilesAndARepeatedExtensionStartsANewSample()
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.tar");
        using (var file = File.Create(path))
        using (var tar = new System.Formats.Tar.TarWriter(file))
        {
            foreach (string name in new[] { "d/a.jpg", "d/a.txt", "d/b.jpg", "d/b.txt", "d/b.jpg", "c.seg.png" })
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(name)) });
        }
        using var stream = File.OpenRead(path);
        var samples = TarSampleReader.Read(stream, path, new SkipLog()).ToList();
        Assert.Equal(["d/a", "d/b", "d/b", "c"], samples.Select(s => s.Key));
        Assert.Equal(["jpg", "txt"], samples[1].Files.Keys.Order());
        Assert.Equal(["jpg"], samples[2].Files.Keys);
        Assert.Equal("c.seg.png", Encoding.UTF8.GetString(samples[3].Files["seg.png"]));
    }

    // GNU tar in its own gnu and pax formats, with folders, a name over 100 characters and a directory entry.
    [Theory]
    [InlineData("gnu")]
    [InlineData("pax")]
    [InlineData("ustar")]
    public void ReadsTarsWrittenByGnuTar(string format)
    {
        using var dir = new TempDirectory();
        string root = Path.Combine(dir.Path, "tree");
        string longFolder = format == "ustar" ? "sub" : "sub/" + new string('x', 110);
        Directory.CreateDirectory(Path.Combine(root, longFolder));
        for (int i = 0; i < 3; i++)
        {
            string stem = Path.Combine(root, longFolder, $"img{i}");
            File.WriteAllBytes(stem + ".png", DataFixtures.Png(i));
            File.WriteAllText(stem + ".txt", $"alt {i}");
            File.WriteAllText(stem + ".recap.txt", $"A caption {i}. Second part.");
        }
        string tarPath = dir.File("gnu.tar");
        var tar = Process.Start(new ProcessStartInfo("tar", ["--format=" + format, "--sort=name", "-cf", tarPath, "-C", root, "."]) { RedirectStandardError = true })!;
        string error = tar.StandardError.ReadToEnd();
        tar.WaitForExit();
        Assert.True(tar.ExitCode == 0, error);

        var source = new WebDatasetSource(tarPath, new DataOrderOptions { Shuffle = false });
        var samples = source.ReadEpoch(0).ToList();
        Assert.Equal(Enumerable.Range(0, 3).Select(i => $"{longFolder}/img{i}"), samples.Select(s => s.Key));
        Assert.Equal(DataFixtures.Png(1), samples[1].ImageBytes);
        Assert.Equal("alt 1", samples[1].AltText);
        Assert.Equal("A caption 1. Second part.", samples[1].Caption);
        Assert.Equal(0, source.Skips.Count);
    }

    [Theory]
    [InlineData(true)]   // cut inside the image data of sample 6
    [InlineData(false)]  // cut inside the header of sample 6's first file
    public void TruncatedShardKeepsTheSamplesBeforeTheBreakAndCountsIt(bool insideData)
    {
        using var dir = new TempDirectory();
        string path = BraceExpansion.Expand(DataFixtures.WriteShards(dir.Path, 10, 10))[0];
        byte[] bytes = File.ReadAllBytes(path);
        int header = IndexOf(bytes, Encoding.ASCII.GetBytes("s0000006.cls"));
        int pngHeader = IndexOf(bytes, Encoding.ASCII.GetBytes("s0000006.png"));
        int cut = insideData ? pngHeader + 512 + 20 : header + 100;
        File.WriteAllBytes(path, bytes[..cut]);

        var source = new WebDatasetSource(path, new DataOrderOptions { Shuffle = false });
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"s{i:D7}"), DataFixtures.Keys(source));
        Assert.Equal(1, source.Skips.CountsByReason[SkipReason.TruncatedShard]);
        Assert.Contains("truncated", source.Skips.Summary() + string.Join(" ", source.Skips.Recent.Select(r => r.Detail)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MissingShardIsSkippedAndTheOthersAreRead()
    {
        using var dir = new TempDirectory();
        string pattern = DataFixtures.WriteShards(dir.Path, 6, 3);
        var source = new WebDatasetSource(new ShardList([.. BraceExpansion.Expand(pattern), dir.File("missing.tar")]), new DataOrderOptions { Shuffle = false });
        Assert.Equal(6, DataFixtures.Keys(source).Count);
        Assert.Equal(1, source.Skips.CountsByReason[SkipReason.UnreadableShard]);
    }

    [Fact]
    public void StreamsShardsFromHttpUrls()
    {
        using var dir = new TempDirectory();
        string pattern = DataFixtures.WriteShards(dir.Path, 9, 3);
        int port = FreePort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var server = Task.Run(() =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try { context = listener.GetContext(); } catch (System.Net.HttpListenerException) { return; } catch (ObjectDisposedException) { return; }
                string file = Path.Combine(dir.Path, context.Request.Url!.AbsolutePath.TrimStart('/'));
                if (File.Exists(file)) using (var f = File.OpenRead(file)) f.CopyTo(context.Response.OutputStream);
                else context.Response.StatusCode = 404;
                context.Response.Close();
            }
        });
        string url = $"http://127.0.0.1:{port}/{Path.GetFileName(pattern)}::http://127.0.0.1:{port}/absent.tar";
        var source = new WebDatasetSource(url, new DataOrderOptions { Shuffle = false });
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"s{i:D7}"), DataFixtures.Keys(source));
        Assert.Contains(source.Skips.Recent, s => s.Reason == SkipReason.UnreadableShard && s.Detail.Contains("HTTP 404"));
        listener.Stop();
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        int at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0);
        return at;
    }
}
