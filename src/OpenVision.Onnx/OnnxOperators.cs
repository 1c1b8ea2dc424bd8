using OpenVision.Onnx.Proto;

namespace OpenVision.Onnx;

/// <summary>What an ONNX file is made of, for inspecting exports (ours or another exporter's).</summary>
public static class OnnxOperators
{
    /// <summary>Node count per op type of an .onnx file, most frequent first (ops outside the default domain are named
    /// <c>domain:Op</c>); a missing file or one that is not an ONNX model is an error naming the file.</summary>
    public static IReadOnlyDictionary<string, int> Count(string path) =>
        Read(path).Graph.Node
            .GroupBy(n => string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx" ? n.OpType : $"{n.Domain}:{n.OpType}")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The parsed file; a missing file or one that is not an ONNX model is an error naming the file.</summary>
    internal static ModelProto Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        try
        {
            using var stream = File.OpenRead(path);
            return ModelProto.Parser.ParseFrom(stream);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not an ONNX model ({e.Message})", e);
        }
    }
}
