using OpenVision.Hub;
using OpenVision.Tests.Fixtures;

namespace OpenVision.Tests.Hub;

public class HubModelIdTests
{
    [Theory]
    [InlineData("hf-hub:UCSC-VLAA/openvision-vit-tiny-patch16-160", "UCSC-VLAA/openvision-vit-tiny-patch16-160", "main")]
    [InlineData("hf-hub:org/name@v1.0", "org/name", "v1.0")]
    [InlineData("hf-hub:org/name@refs/pr/1", "org/name", "refs/pr/1")]
    [InlineData("hf-hub:gpt2", "gpt2", "main")]
    public void ParsesModelIds(string text, string repo, string revision)
    {
        var id = HubModelId.Parse(text);
        Assert.Equal(repo, id.RepoId);
        Assert.Equal(revision, id.Revision);
        Assert.Equal($"hf-hub:{repo}@{revision}", id.ToString());
    }

    [Theory]
    [InlineData("org/name")]              // no prefix: a local model name
    [InlineData("hf-hub:")]
    [InlineData("hf-hub:org/name/extra")]
    [InlineData("hf-hub:../etc")]
    [InlineData("hf-hub:org/na--me")]
    [InlineData("hf-hub:org/name@")]
    [InlineData("hf-hub:org/name@../../x")]
    [InlineData("hf-hub:org/name@a b")]
    public void RejectsInvalidIds(string text)
    {
        Assert.False(HubModelId.TryParse(text, out _));
        Assert.Throws<FormatException>(() => HubModelId.Parse(text));
    }

    [Fact]
    public void KnowsCommitHashesAndCacheFolder()
    {
        var id = HubModelId.Parse($"hf-hub:org/name@{FakeHubServer.Commit}");
        Assert.True(id.IsCommitHash);
        Assert.False(HubModelId.Parse("hf-hub:org/name").IsCommitHash);
        Assert.Equal("models--org--name", id.CacheFolderName);
    }

    [Fact]
    public void FileNamesCannotLeaveTheSnapshot()
    {
        Assert.Equal(["a", "b.json"], HubCache.SplitFileName("a/b.json"));
        foreach (var bad in new[] { "", "../x", "a/../../x", "/etc/passwd", "a//b", "a\\b", "./a" })
            Assert.Throws<ArgumentException>(() => HubCache.SplitFileName(bad));
    }
}

public class HubOptionsTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Key == name).Value;

    [Fact]
    public void CacheDirectoryPrecedence()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal("/c/hub-cache", HubOptions.FromEnvironment(Env(("HF_HUB_CACHE", "/c/hub-cache"), ("HF_HOME", "/h"))).CacheDirectory);
        Assert.Equal(Path.Combine("/h", "hub"), HubOptions.FromEnvironment(Env(("HF_HOME", "/h"), ("XDG_CACHE_HOME", "/x"))).CacheDirectory);
        Assert.Equal(Path.Combine("/x", "huggingface", "hub"), HubOptions.FromEnvironment(Env(("XDG_CACHE_HOME", "/x"))).CacheDirectory);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), HubOptions.FromEnvironment(Env()).CacheDirectory);
        Assert.Equal(home + "/models", HubOptions.FromEnvironment(Env(("HF_HUB_CACHE", "~/models"))).CacheDirectory);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("ON", true)]
    [InlineData("yes", true)]
    [InlineData("0", false)]
    [InlineData("", false)]
    public void OfflineAcceptsHuggingFaceTruthyValues(string value, bool offline)
    {
        Assert.Equal(offline, HubOptions.FromEnvironment(Env(("HF_HUB_OFFLINE", value))).Offline);
    }

    [Fact]
    public void EndpointAndTokenFromEnvironmentOrTokenFile()
    {
        var options = HubOptions.FromEnvironment(Env(("HF_ENDPOINT", "https://mirror.example/"), ("HF_TOKEN", "hf_abc")));
        Assert.Equal("https://mirror.example", options.Endpoint);
        Assert.Equal("hf_abc", options.Token);
        Assert.Equal(HubOptions.DefaultEndpoint, HubOptions.FromEnvironment(Env()).Endpoint);

        using var temp = TestFiles.NewTempFolder();
        File.WriteAllText(temp.Path("token"), "hf_from_file\n");
        Assert.Equal("hf_from_file", HubOptions.FromEnvironment(Env(("HF_HOME", temp.Root))).Token);
        Assert.Null(HubOptions.FromEnvironment(Env(("HF_HOME", temp.Path("none")))).Token);
    }
}
