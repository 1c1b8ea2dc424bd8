using OpenVision.Search;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>A real server on 127.0.0.1 with an API key and a small image index (reference images, built in a temp
/// folder with the served model), shared by the OpenAI-client and search tests.</summary>
public sealed class SearchServerFixture : IAsyncLifetime
{
    public const string Key = "test-key-0123";
    public static readonly string[] Images = ["chelsea.png", "horse.png", "rocket.jpg", "camera.png", "block.png", "green_palette.png"];

    private readonly string folder = Directory.CreateTempSubdirectory("openvision-search-").FullName;

    public OpenVisionEncoder Encoder { get; } = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));

    public ImageIndex Index { get; private set; } = null!;

    public EmbeddingServer Server { get; private set; } = null!;

    /// <summary>A client that sends the key.</summary>
    public HttpClient Client { get; private set; } = null!;

    public string ModelId => Encoder.Config.Name;

    public async Task InitializeAsync()
    {
        string indexFolder = Path.Combine(folder, "index");
        // Named by the model's folder, as `openvision index build --model DIR` names it: a path the answers must not show.
        ImageIndexBuilder.Build(Encoder, ReferenceModels.Folder(ServerFixture.Model), Images.Select(name => IndexInput.FromFile(ServerFixture.Image(name))).ToList(), indexFolder);
        Index = ImageIndex.Open(indexFolder);
        Server = await EmbeddingServer.StartAsync(Encoder, new ServeOptions { Port = 0, ApiKey = Key, SearchIndex = Index });
        Client = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromMinutes(2) };
        Client.DefaultRequestHeaders.Authorization = new("Bearer", Key);
    }

    /// <summary>What <c>openvision embed</c> writes for these texts (it runs the same library call).</summary>
    public float[][] TextReference(IReadOnlyList<string> texts) => Rows(Encoder.EncodeTexts(texts));

    /// <summary>What <c>openvision embed --images</c> writes for these files.</summary>
    public float[][] ImageReference(IReadOnlyList<string> paths) => Rows(Encoder.EncodeImageFiles(paths));

    public static string DataUrl(string path) =>
        $"data:image/{(Path.GetExtension(path) is ".jpg" ? "jpeg" : Path.GetExtension(path).TrimStart('.'))};base64,{Convert.ToBase64String(File.ReadAllBytes(path))}";

    /// <summary>Asserts equal rows within 1e-5, the issue's bound: both sides run the same float32 graph on this
    /// machine, so only batch composition (a few ulps of normalized values) can differ.</summary>
    public static void AssertClose(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            double worst = expected[i].Zip(actual[i], (a, b) => Math.Abs((double)a - b)).Max();
            Assert.True(worst <= 1e-5, $"{what} row {i}: largest difference {worst:E2} > 1e-5");
        }
    }

    private static float[][] Rows(TorchSharp.torch.Tensor features)
    {
        using (features)
        {
            var data = features.data<float>().ToArray();
            int width = (int)features.shape[1];
            return Enumerable.Range(0, (int)features.shape[0]).Select(i => data[(i * width)..((i + 1) * width)]).ToArray();
        }
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Index.Dispose();
        Encoder.Dispose();
        Directory.Delete(folder, true);
    }
}
