using OpenVision.Vision;

namespace OpenVision.Serving.Tests;

/// <summary>The intake's bound across requests: however many requests decode at once, no more than its slots hold
/// full-size images.</summary>
public class ImageIntakeTests
{
    [Fact]
    public async Task ConcurrentRequestsDecodeNoMoreImagesAtOnceThanTheSlots()
    {
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 16 });
        var intake = new ImageIntake(transform, 40_000_000, concurrency: 2);
        int inside = 0, most = 0;
        var twoInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim(false);
        DecodedImage Decode()
        {
            int now = Interlocked.Increment(ref inside);
            lock (intake) most = Math.Max(most, now);
            if (now >= 2) twoInside.TrySetResult();
            release.Wait(TimeSpan.FromMinutes(1));                // held, so every request that can get in is in
            Interlocked.Decrement(ref inside);
            return new DecodedImage(64, 48, ImageMode.Rgb, new byte[64 * 48 * 3], ImageFormat.Png);
        }

        var requests = Enumerable.Range(0, 6).Select(_ => Task.Run(() => intake.PrepareAsync(2, _ => Decode(), CancellationToken.None))).ToList();
        await twoInside.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await Task.Delay(300);                                    // room for a third to get in, were it let
        lock (intake) Assert.Equal(2, most);
        release.Set();
        foreach (var rows in await Task.WhenAll(requests)) Assert.All(rows, row => Assert.Equal(transform.OutputLength, row.Length));
        Assert.InRange(intake.PeakLivePixels, 64 * 48, 2 * 64 * 48);      // two at most (their spans need not overlap)
    }

    [Fact]
    public async Task ARequestWaitingForASlotLeavesWhenItsClientDoes()
    {
        var intake = new ImageIntake(new ImageTransform(new ImageTransformOptions { ImageSize = 16 }), 40_000_000, concurrency: 1);
        using var release = new ManualResetEventSlim(false);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(() => intake.PrepareAsync(() =>
        {
            holding.SetResult();
            release.Wait(TimeSpan.FromMinutes(1));
            return new DecodedImage(8, 8, ImageMode.Rgb, new byte[8 * 8 * 3], ImageFormat.Png);
        }, CancellationToken.None));
        await holding.Task.WaitAsync(TimeSpan.FromMinutes(1));
        using var gone = new CancellationTokenSource();
        bool decoded = false;
        var waiting = intake.PrepareAsync(() => { decoded = true; return new DecodedImage(8, 8, ImageMode.Rgb, new byte[8 * 8 * 3], ImageFormat.Png); }, gone.Token);
        gone.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        release.Set();
        await holder;
        Assert.False(decoded);
    }
}
