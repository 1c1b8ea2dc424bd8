using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>What a conversion produced.</summary>
/// <param name="Shards">The shard files, in order.</param>
/// <param name="Pattern">A brace pattern naming all of them.</param>
/// <param name="Samples">Samples written.</param>
/// <param name="Reused">True when matching shards from an earlier conversion were found and nothing was written.</param>
public sealed record FashionMnistConversion(IReadOnlyList<string> Shards, string Pattern, int Samples, bool Reused);
