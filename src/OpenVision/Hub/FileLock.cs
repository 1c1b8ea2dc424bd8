namespace OpenVision.Hub;

/// <summary>An exclusive lock between processes, held by opening a lock file with no sharing (flock on Unix), so
/// two processes never append to the same <c>.incomplete</c> file.</summary>
internal static class FileLock
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits until the lock at <paramref name="path"/> is free, then holds it until disposed.
    /// The file itself stays, as huggingface_hub's do: deleting it would race with the next waiter.</summary>
    public static async Task<IDisposable> AcquireAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1); }
            catch (IOException) when (File.Exists(path))
            {
                await Task.Delay(Poll, ct).ConfigureAwait(false);
            }
        }
    }
}
