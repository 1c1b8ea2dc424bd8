using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>Reads open_clip's int-or-pair sizes (<c>224</c> or <c>[224, 224]</c>); only square sizes are supported.</summary>
internal sealed class SquareSizeConverter : JsonConverter<int>
{
    public override bool HandleNull => false;

    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return reader.GetInt32();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("size must be an integer or [height, width]");
        var values = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) values.Add(reader.GetInt32());
        if (values.Count != 2) throw new JsonException($"size must be [height, width], got {values.Count} values");
        if (values[0] != values[1]) throw new JsonException($"non-square size [{values[0]}, {values[1]}] is not supported");
        return values[0];
    }

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
