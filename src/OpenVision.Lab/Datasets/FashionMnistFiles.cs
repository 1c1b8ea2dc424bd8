using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>The four IDX files of Fashion-MNIST.</summary>
/// <param name="TrainImages">train-images-idx3-ubyte(.gz).</param>
/// <param name="TrainLabels">train-labels-idx1-ubyte(.gz).</param>
/// <param name="TestImages">t10k-images-idx3-ubyte(.gz).</param>
/// <param name="TestLabels">t10k-labels-idx1-ubyte(.gz).</param>
public sealed record FashionMnistFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels);
