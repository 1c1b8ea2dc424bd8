using System.Diagnostics;
using OpenVision.Checkpoints;

namespace OpenVision.Tests.Checkpoints;

public class HostileFileTests
{
    // What the evil pickles would create if their os.system call ran: "touch /tmp/openvision-pickle-executed".
    private const string EvilMarker = "/tmp/openvision-pickle-executed";

    public static TheoryData<string> BrokenFiles() =>
    [
        // wrong_shape.safetensors is a well-formed file whose visual.proj has the wrong shape for Tiny/16: rejecting
        // it is the model loader's job (see ReadsWrongShapeFileForTheModelLoaderToReject).
        .. Directory.GetFiles(ReferenceData.Path("bad")).Select(f => Path.GetFileName(f)).Where(f => f != "wrong_shape.safetensors").Order(),
    ];

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void EveryBrokenFileFailsWithFormatErrorNamingIt(string file)
    {
        string path = ReferenceData.Path("bad", file);
        var e = Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(path));
        Assert.Contains(file, e.Message);
        Assert.Equal(path, e.Path);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ReadsWrongShapeFileForTheModelLoaderToReject()
    {
        var tensors = StateDictReader.Read(ReferenceData.Path("bad", "wrong_shape.safetensors"));
        Assert.NotEqual(new long[] { 192, 192 }, tensors["visual.proj"].Shape);
    }

    [Theory]
    [InlineData("evil_reduce.bin")]
    [InlineData("evil_legacy.bin")]
    public void EvilPicklesHaveNoSideEffects(string file)
    {
        if (File.Exists(EvilMarker)) File.Delete(EvilMarker);
        int childrenBefore = ChildProcessCount();
        string path = ReferenceData.Path("bad", file);

        Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(path));
        // The zip reader and the unpickler on their own refuse it too, by name of the import.
        if (file == "evil_reduce.bin")
            Assert.Contains("posix.system", Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(path)).Message);
        var unpickle = Assert.Throws<CheckpointFormatException>(() =>
            new OpenVision.Checkpoints.Pickle.RestrictedUnpickler(path).Load(file == "evil_legacy.bin" ? File.ReadAllBytes(path) : EvilZipPickle(path)));
        Assert.Contains("refuses to import posix.system", unpickle.Message);

        Assert.False(File.Exists(EvilMarker), "the pickle's command ran");
        Assert.Equal(childrenBefore, ChildProcessCount());
    }

    private static byte[] EvilZipPickle(string path)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        using var stream = zip.GetEntry("archive/data.pkl")!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    // Children of this process, from /proc (Linux); elsewhere the marker file alone is the evidence.
    private static int ChildProcessCount()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        int self = Environment.ProcessId, count = 0;
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == self) count++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return count;
    }

    [Fact]
    public void ChildProcessProbeSeesChildren()
    {
        if (!OperatingSystem.IsLinux()) return;
        int before = ChildProcessCount();
        using var child = Process.Start(new ProcessStartInfo("sleep", "5") { UseShellExecute = false })!;
        try { Assert.Equal(before + 1, ChildProcessCount()); }
        finally { child.Kill(); child.WaitForExit(); }
    }
}
