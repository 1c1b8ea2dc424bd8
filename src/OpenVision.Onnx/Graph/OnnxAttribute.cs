using Google.Protobuf;
using OpenVision.Onnx.Proto;
using AttributeType = OpenVision.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace OpenVision.Onnx.Graph;

/// <summary>A node attribute; the ONNX type follows from the C# value (long, float, string, long[], float[]).</summary>
internal readonly record struct OnnxAttribute(string Name, object Value)
{
    public AttributeProto ToProto()
    {
        var proto = new AttributeProto { Name = Name };
        switch (Value)
        {
            case long i: proto.Type = AttributeType.Int; proto.I = i; break;
            case int i: proto.Type = AttributeType.Int; proto.I = i; break;
            case float f: proto.Type = AttributeType.Float; proto.F = f; break;
            case string s: proto.Type = AttributeType.String; proto.S = ByteString.CopyFromUtf8(s); break;
            case long[] ints: proto.Type = AttributeType.Ints; proto.Ints.AddRange(ints); break;
            case float[] floats: proto.Type = AttributeType.Floats; proto.Floats.AddRange(floats); break;
            default: throw new ArgumentException($"attribute {Name}: unsupported value type {Value.GetType().Name}");
        }
        return proto;
    }
}
