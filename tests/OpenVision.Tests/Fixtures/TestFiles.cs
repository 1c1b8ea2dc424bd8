namespace OpenVision.Tests.Fixtures;

/// <summary>Paths of the committed fixtures (copied next to the test binaries) and disposable temp folders.</summary>
public static class TestFiles
{
    /// <summary>A fixture file, e.g. Fixture("checkpoints", "views.pt").</summary>
    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>A new empty folder under the system temp folder, deleted when disposed.</summary>
    public static TempFolder NewTempFolder() => new();
}

/// <summary>A temporary folder that removes itself.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Creates the folder.</summary>
    public TempFolder()
    {
        Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ov-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>A path inside the folder.</summary>
    public string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Deletes the folder and everything in it.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
