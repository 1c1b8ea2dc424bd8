namespace OpenVision.Captioning;

/// <summary>A generated caption.</summary>
/// <param name="Text">Detokenised text: special tokens dropped, "##" pieces joined.</param>
/// <param name="TokenIds">The generated ids, without [bos] and [eos].</param>
/// <param name="LogProbability">Sum of the tokens' log-probabilities ([eos] included when it was generated).</param>
public sealed record Caption(string Text, IReadOnlyList<int> TokenIds, double LogProbability);
