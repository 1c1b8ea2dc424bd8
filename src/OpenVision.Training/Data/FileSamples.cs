namespace OpenVision.Training.Data;

/// <summary>The reading loop shared by sources whose samples are image files listed up front (manifest, folder).</summary>
internal static class FileSamples
{
    /// <summary>Reads the images of <paramref name="items"/> in order, after the first <paramref name="skip"/> samples.</summary>
    /// <remarks>A sample whose image file does not exist is not part of the stream, in the skipped prefix as after
    /// it, so positions count the same samples on a resumed run; the prefix is checked with File.Exists, never read.</remarks>
    public static IEnumerable<ImageTextSample> Read<T>(IEnumerable<T> items, long skip, string source, SkipLog skips,
        CancellationToken cancellationToken, Func<T, (string Path, string Key, string AltText, string? Caption, int? Label)> describe)
    {
        long seen = 0;
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (path, key, altText, caption, label) = describe(item);
            if (!File.Exists(path))
            {
                if (seen >= skip) skips.Add(source, key, SkipReason.UnreadableFile, $"{path}: no such file");
                continue;
            }
            if (seen++ < skip) continue;
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skips.Add(source, key, SkipReason.UnreadableFile, $"{path}: {e.Message}");
                continue;
            }
            yield return new ImageTextSample(key, bytes, path, altText, caption, label);
        }
    }
}
