using System.Text.Json;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

/// <summary><c>--expansion-search</c> on <c>index build</c> (stored in the manifest) and on <c>search</c> (this query
/// only), through the real CLI on real images.</summary>
public sealed class IndexSearchExpansionCliTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ov-cli-ef-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static string Model => ReferenceModels.Folder("ovtest-mini-p16-64");

    private static int StoredExpansion(string index)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(index, "manifest.json")));
        return manifest.RootElement.GetProperty("hnsw").GetProperty("expansion_search").GetInt32();
    }

    [Fact]
    public void BuildStoresTheExpansionAndSearchOverridesItForOneQuery()
    {
        string images = ReferenceData.Path("preprocess", "images");
        string query = Path.Combine(images, "horse.png");
        string index = Path.Combine(root, "idx");
        var build = Cli.Run("index", "build", "--model", Model, "--images", query, Path.Combine(images, "rocket.jpg"), Path.Combine(images, "camera.png"),
            "--output", index, "--approximate", "on", "--expansion-search", "33");
        Assert.True(build.ExitCode == 0, build.Stderr);
        Assert.Equal(33, StoredExpansion(index));

        var found = Cli.Run("search", "--index", index, "--image", query, "--top", "1", "--expansion-search", "5", "--json");
        Assert.True(found.ExitCode == 0, found.Stderr);
        Assert.Contains("horse.png", found.Stdout);
        Assert.Equal(33, StoredExpansion(index));       // a query's choice is not written back

        var refused = Cli.Run("search", "--index", index, "--image", query, "--expansion-search", "0");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--expansion-search must be at least 1", refused.Stderr);
    }

    [Fact]
    public void ADefaultBuildStoresTheLibrarysDefault()
    {
        string images = ReferenceData.Path("preprocess", "images");
        string index = Path.Combine(root, "plain");
        var build = Cli.Run("index", "build", "--model", Model, "--images", Path.Combine(images, "horse.png"), "--output", index, "--approximate", "on");
        Assert.True(build.ExitCode == 0, build.Stderr);
        Assert.Equal(new OpenVision.Search.HnswOptions().ExpansionSearch, StoredExpansion(index));
    }
}
