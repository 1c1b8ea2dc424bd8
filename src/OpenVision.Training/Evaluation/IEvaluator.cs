namespace OpenVision.Training.Evaluation;

/// <summary>The evaluator protocol shared by the training loop and the CLI (big_vision's <c>run()</c> that yields
/// <c>(name, value)</c>): give it an encoder, get metrics.</summary>
public interface IEvaluator
{
    /// <summary>Short name used as the metric prefix, e.g. "imagenet-zeroshot".</summary>
    string Name { get; }

    /// <summary>Runs the evaluation with <paramref name="encoder"/> and yields its metrics.</summary>
    IEnumerable<Metric> Run(OpenVisionEncoder encoder, CancellationToken cancellationToken = default);
}
