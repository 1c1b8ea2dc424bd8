using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>What the training loop (<see cref="TrainingLoop"/>) trains: an encoder plus whatever its objective needs,
/// one backward pass per optimizer step, and the files a run writes. <see cref="ClipsTrainingModel"/> is OpenVision's
/// CLIPS objective, <see cref="CaptioningTrainingModel"/> OpenVision 2's caption-only one.</summary>
public abstract class TrainingModel : nn.Module
{
    /// <summary>Names the module.</summary>
    protected TrainingModel(string name) : base(name) { }

    /// <summary>The encoder being trained (vision-only for the caption-only objective).</summary>
    public abstract OpenVisionModel Clip { get; }

    /// <summary>The temperature exp(logit_scale) for the metrics; 0 for an objective without one.</summary>
    public abstract double Temperature { get; }

    /// <summary>Every parameter with its checkpoint key (TorchSharp's <c>named_parameters()</c>).</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => named_parameters();

    /// <summary>Floating-point buffers that a data-parallel run copies from rank 0 with the parameters.</summary>
    public abstract IEnumerable<Tensor> FloatingBuffers();

    /// <summary>Switches the model to training (true) or evaluation (false) mode.</summary>
    public abstract void Train(bool training = true);

    /// <summary>Accumulates into the parameters' gradients (zero them first) the gradient of the weighted loss of the
    /// batch formed by <paramref name="microBatches"/> (this rank's share of it in a data-parallel run), exactly as one
    /// backward pass over the whole batch would.</summary>
    /// <param name="microBatches">The step's micro-batches, in order.</param>
    /// <param name="distributed">The ranks; <see cref="SingleProcessContext"/> for one process.</param>
    /// <param name="context">The step: its index and seed for random choices, the stage's settings.</param>
    /// <returns>This rank's losses: contrastive (0 without one), caption and the weighted total.</returns>
    public abstract (double Contrastive, double Caption, double Total) Backward(IReadOnlyList<TrainingBatch> microBatches,
        IDistributedContext distributed, TrainStepContext context);

    /// <summary>Writes the training checkpoint (every parameter and buffer) as a safetensors file.</summary>
    public abstract void Save(string path, ScalarType? dtype = null);

    /// <summary>Reads a training checkpoint written by <see cref="Save"/>; every key is checked before anything is copied.</summary>
    public abstract LoadReport Load(string path, bool requireDecoder = true);

    /// <summary>Writes the trained model in its released layout, which <c>openvision embed</c> (and, where the
    /// objective trains a generator, <c>openvision caption</c>) loads.</summary>
    public abstract void SaveModel(string folder);
}
