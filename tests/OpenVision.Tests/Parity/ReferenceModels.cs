using OpenVision.Checkpoints;

namespace OpenVision.Tests.Parity;

/// <summary>The reference models in ../shared/reference/models and their expected outputs.</summary>
public static class ReferenceModels
{
    public static readonly string[] Names =
        ["openvision-vit-tiny-patch16-160", "ovtest-mini-p16-64", "ovtest-mini-p8-40", "ovtest-mini-so-p14-46"];

    public static readonly string[] WithPickle = ["ovtest-mini-p16-64", "ovtest-mini-p8-40", "ovtest-mini-so-p14-46"];

    public static TheoryData<string> All => new(Names);

    public static TheoryData<string> AllWithPickle => new(WithPickle);

    public static string Folder(string name) => ReferenceData.Path("models", name);

    private static readonly Dictionary<string, Dictionary<string, TensorData>> Cache = new();

    public static Dictionary<string, TensorData> Expected(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var expected))
                Cache[name] = expected = SafetensorsFile.Read(System.IO.Path.Combine(Folder(name), "expected.safetensors"));
            return expected;
        }
    }
}
