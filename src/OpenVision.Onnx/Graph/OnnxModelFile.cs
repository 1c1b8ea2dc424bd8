using System.Globalization;
using Google.Protobuf;
using OpenVision.IO;
using OpenVision.Onnx.Proto;

namespace OpenVision.Onnx.Graph;

/// <summary>Wraps a graph in a ModelProto and writes it, moving large weights to an external data file when the
/// whole would pass protobuf's 2 GiB message limit (ONNX's external-data convention, which onnxruntime reads).</summary>
internal static class OnnxModelFile
{
    /// <summary>Opset 17 is the first with LayerNormalization; GELU is written with Erf/Tanh (Gelu is opset 20).</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 is the one that came with opset 17 (ONNX 1.12).</summary>
    public const int IrVersion = 8;

    // Offsets are page-aligned so that onnxruntime can map the file instead of copying it.
    private const int Alignment = 4096;
    private const int SmallTensorBytes = 1024;

    /// <summary>Version of ONNX Runtime's com.microsoft domain the contrib operators are written against.</summary>
    public const int RuntimeDomainVersion = 1;

    public static ModelProto Create(OnnxGraphBuilder builder, string docString, IReadOnlyDictionary<string, string> metadata)
    {
        var graph = builder.Graph;
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "OpenVision.NET",
            ProducerVersion = typeof(OnnxModelFile).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (builder.UsesRuntimeDomain) model.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxGraphBuilder.RuntimeDomain, Version = RuntimeDomainVersion });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>; when its initializers hold more than
    /// <paramref name="externalAboveBytes"/>, tensors of 1 KiB or more go to <c>path + ".data"</c>. Returns the files written.</summary>
    public static IReadOnlyList<string> Write(ModelProto model, string path, long initializerBytes, long externalAboveBytes)
    {
        var written = new List<string> { path };
        string dataPath = path + ".data";
        File.Delete(dataPath);
        if (initializerBytes > externalAboveBytes)
        {
            using var data = new FileStream(dataPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            foreach (var tensor in model.Graph.Initializer)
            {
                if (tensor.RawData.Length < SmallTensorBytes) continue;
                long offset = (data.Position + Alignment - 1) / Alignment * Alignment;
                data.Write(new byte[offset - data.Position]);
                data.Write(tensor.RawData.Span);
                tensor.ExternalData.Add(Entry("location", Path.GetFileName(dataPath)));
                tensor.ExternalData.Add(Entry("offset", offset.ToString(CultureInfo.InvariantCulture)));
                tensor.ExternalData.Add(Entry("length", tensor.RawData.Length.ToString(CultureInfo.InvariantCulture)));
                tensor.DataLocation = TensorProto.Types.DataLocation.External;
                tensor.ClearRawData();
            }
            written.Add(dataPath);
        }
        AtomicFile.Write(path, model.WriteTo);
        return written;
    }

    private static StringStringEntryProto Entry(string key, string value) => new() { Key = key, Value = value };
}
