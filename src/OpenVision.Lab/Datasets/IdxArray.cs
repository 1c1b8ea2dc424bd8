using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>An unsigned-byte array read from an IDX file (the MNIST / Fashion-MNIST format).</summary>
/// <param name="Dimensions">The sizes, outermost first (e.g. [60000, 28, 28] for images, [60000] for labels).</param>
/// <param name="Data">The values in row-major order.</param>
public sealed record IdxArray(IReadOnlyList<int> Dimensions, byte[] Data);
