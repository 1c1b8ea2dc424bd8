namespace OpenVision.Training.Augmentation;

/// <summary>A crop rectangle in pixels.</summary>
/// <param name="X">Left column.</param>
/// <param name="Y">Top row.</param>
/// <param name="Width">Columns.</param>
/// <param name="Height">Rows.</param>
/// <param name="IsFallback">True when no random draw fitted and the centre crop was used.</param>
public readonly record struct CropBox(int X, int Y, int Width, int Height, bool IsFallback);
