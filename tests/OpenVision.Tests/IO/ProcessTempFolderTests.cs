using System.Diagnostics;
using OpenVision.IO;

namespace OpenVision.Tests.IO;

/// <summary>Temporary folders owned by a process: a new one is created empty, and the folders of processes that are gone
/// are deleted by the next one, while those of running processes, and names of any other form, stay.</summary>
public class ProcessTempFolderTests : IDisposable
{
    private readonly string parent = Directory.CreateTempSubdirectory("ov-process-temp-").FullName;

    public void Dispose() => Directory.Delete(parent, recursive: true);

    [Fact]
    public void ANewFolderIsEmptyAndNamedAfterThisProcess()
    {
        string folder = ProcessTempFolder.Create("bench", parent);
        Assert.True(Directory.Exists(folder));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        Assert.Equal(parent, Path.GetDirectoryName(folder));
        Assert.Equal(Environment.ProcessId, ProcessTempFolder.OwnerOf(Path.GetFileName(folder), "bench"));
        Assert.NotEqual(folder, ProcessTempFolder.Create("bench", parent));
    }

    [Fact]
    public void TheFolderOfAProcessThatIsGoneIsDeletedByTheNextOne()
    {
        int gone = ExitedProcessId();
        string stale = Folder($"bench-{gone}-{Guid.NewGuid():N}");
        File.WriteAllBytes(Path.Combine(stale, "vision.onnx"), new byte[1000]);
        Directory.CreateDirectory(Path.Combine(stale, "nested"));

        string fresh = ProcessTempFolder.Create("bench", parent);

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(fresh));
    }

    [Fact]
    public void FoldersOfRunningProcessesAndOfOtherFormsStay()
    {
        using var running = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            int gone = ExitedProcessId();
            string[] kept =
            [
                Folder($"bench-{running.Id}-{Guid.NewGuid():N}"),          // its process still runs
                Folder($"bench-{Environment.ProcessId}-{Guid.NewGuid():N}"), // this process's own
                Folder($"bench-{gone}"),                                   // no guid: not a name this class gives
                Folder($"bench-{gone}-not-a-guid"),
                Folder($"bench-x{gone}-{Guid.NewGuid():N}"),
                Folder($"benchmark-{gone}-{Guid.NewGuid():N}"),            // another prefix
                Folder($"other-{gone}-{Guid.NewGuid():N}"),
            ];
            string file = Path.Combine(parent, $"bench-{gone}-{Guid.NewGuid():N}");
            File.WriteAllText(file, "a file, not a folder");

            Assert.Equal(0, ProcessTempFolder.DeleteStale(parent, "bench"));

            Assert.All(kept, folder => Assert.True(Directory.Exists(folder), folder));
            Assert.True(File.Exists(file));
        }
        finally
        {
            running.Kill();
            running.WaitForExit();
        }
    }

    [Fact]
    public void DeleteStaleCountsWhatWentAndToleratesAMissingParent()
    {
        int gone = ExitedProcessId();
        Folder($"bench-{gone}-{Guid.NewGuid():N}");
        Folder($"bench-{gone}-{Guid.NewGuid():N}");
        Assert.Equal(2, ProcessTempFolder.DeleteStale(parent, "bench"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
        Assert.Equal(0, ProcessTempFolder.DeleteStale(Path.Combine(parent, "missing"), "bench"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("..*")]
    [InlineData("two words")]
    public void PrefixesThatAreNotPlainNamesAreRefused(string prefix) =>
        Assert.ThrowsAny<ArgumentException>(() => ProcessTempFolder.Create(prefix, parent));

    private string Folder(string name)
    {
        string folder = Path.Combine(parent, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    // The id of a real process that has exited (ids are reused only after the kernel's pid range wraps).
    private static int ExitedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
