using OpenVision.IO;

namespace OpenVision.Tests.IO;

/// <summary>The one atomic write: the target holds the old or the whole new content, never a part, and no temporary
/// file is left behind either way.</summary>
public class AtomicFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ov-atomic-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void WritesReplaceTheTargetAndLeaveNothingElse()
    {
        string path = Path.Combine(folder, "out.bin");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.Write(path, stream => stream.Write("second"u8));
        Assert.Equal("second", File.ReadAllText(path));
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void AFailedWriteKeepsTheOldContent()
    {
        string path = Path.Combine(folder, "out.txt");
        File.WriteAllText(path, "old");
        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half of the new"u8);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("disk full", error.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void AnOsErrorAboutTheTemporaryFileNamesTheTarget()
    {
        string path = Path.Combine(folder, "e.safetensors");
        File.WriteAllText(path, "old");
        // As .NET words ENOSPC on Unix, naming the file it was writing.
        var error = Assert.Throws<IOException>(() => AtomicFile.Commit(path, temp =>
        {
            File.WriteAllText(temp, "half");
            throw new IOException($"No space left on device : '{temp}'", 28);
        }));
        Assert.Equal($"{path}: cannot write (no space left on device)", error.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder));

        var denied = Assert.Throws<IOException>(() => AtomicFile.Commit(path, temp => throw new UnauthorizedAccessException($"Access to the path '{temp}' is denied.")));
        Assert.Equal($"{path}: cannot write (permission denied)", denied.Message);
    }

    [Fact]
    public void AnErrorAboutAnotherFileIsPassedOnAsItIs()
    {
        string path = Path.Combine(folder, "out.bin");
        var error = Assert.Throws<FileNotFoundException>(() => AtomicFile.Commit(path, temp => File.Copy(Path.Combine(folder, "missing.bin"), temp)));
        Assert.Contains("missing.bin", error.Message);
        Assert.DoesNotContain("cannot write", error.Message);
    }

    [Fact]
    public void OutputProblemsAreFoundBeforeWriting()
    {
        Assert.Null(AtomicFile.OutputProblem(Path.Combine(folder, "new.json")));
        Assert.Equal($"the folder {Path.Combine(folder, "nosuch")} does not exist", AtomicFile.OutputProblem(Path.Combine(folder, "nosuch", "r.json")));
        Directory.CreateDirectory(Path.Combine(folder, "isdir.npy"));
        Assert.Equal("is a folder; give a file path", AtomicFile.OutputProblem(Path.Combine(folder, "isdir.npy")));
    }

    [Fact]
    public void WithoutOverwriteTheFirstWriterWins()
    {
        string path = Path.Combine(folder, "plan.json");
        AtomicFile.Commit(path, temp => File.WriteAllText(temp, "first"), overwrite: false);
        Assert.Throws<IOException>(() => AtomicFile.Commit(path, temp => File.WriteAllText(temp, "second"), overwrite: false));
        Assert.Equal("first", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void TemporaryPathsAreBesideTheTargetAndUnique()
    {
        string path = Path.Combine(folder, "x.npy");
        string a = AtomicFile.TemporaryPathFor(path), b = AtomicFile.TemporaryPathFor(path);
        Assert.NotEqual(a, b);
        Assert.Equal(folder, Path.GetDirectoryName(a));
        Assert.StartsWith(path + ".tmp-", a);
    }
}
