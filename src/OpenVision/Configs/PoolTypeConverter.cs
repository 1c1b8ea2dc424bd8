using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>open_clip's spelling of <see cref="VisionPoolType"/>: reads any case, writes "avg" / "tok". open_clip
/// compares the string exactly, so the enum's own name ("Avg") in a config we save is not a pooling it knows.</summary>
internal sealed class PoolTypeConverter() : JsonStringEnumConverter<VisionPoolType>(JsonNamingPolicy.SnakeCaseLower);
