using System.Text.Json;

namespace OpenVision.Training;

/// <summary>Where a run is: enough to resume exactly (stage, step in stage, samples consumed, tensor RNG state).</summary>
/// <param name="Stage">Index of the current stage.</param>
/// <param name="StepInStage">Optimizer steps completed in that stage.</param>
/// <param name="GlobalStep">Optimizer steps completed in the run.</param>
/// <param name="SamplesSeen">Samples trained on so far.</param>
/// <param name="Data">Where the data stream continues.</param>
/// <param name="TorchRngState">libtorch's CPU generator state, base64.</param>
public sealed record TrainingState(int Stage, int StepInStage, long GlobalStep, long SamplesSeen, Data.DataPosition Data, string TorchRngState)
{
    /// <summary>Serialises the state.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, TrainConfig.JsonOptions);

    /// <summary>Parses a state file; errors name it.</summary>
    public static TrainingState Load(string path)
    {
        try { return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path), TrainConfig.JsonOptions) ?? throw new InvalidDataException($"{path}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
    }
}
