using OpenVision.Onnx.Selection;

namespace OpenVision.Onnx.Tests.Selection;

public sealed class CallTimingTests
{
    [Fact]
    public void PathsRunInBlocksForthAndBackEachAfterAnUntimedCall()
    {
        var calls = new List<string>();
        (Action, Action) Path(string name) => (() => calls.Add(name + " settle"), () => calls.Add(name));
        CallTiming.ForthAndBack([Path("a"), Path("b"), Path("c")], TimeSpan.Zero);
        Assert.Equal(["a settle", "a", "a", "b settle", "b", "b", "c settle", "c", "c", "c settle", "c", "c", "b settle", "b", "b", "a settle", "a", "a"], calls);
    }

    [Fact]
    public void ABlockCallsUntilItsTimeIsUpAndNoMoreThanTheMaximum()
    {
        int slow = 0, fast = 0;
        CallTiming.ForthAndBack([(() => { }, () => { slow++; Thread.Sleep(10); })], TimeSpan.FromMilliseconds(100));
        // 100 ms of calls of at least 10 ms in each of two blocks: at most 10 and one more, and more than the minimum
        // of 2 unless a sleep overshoots threefold.
        Assert.InRange(slow, 2 * 3, 2 * 11);
        CallTiming.ForthAndBack([(() => { }, () => fast++)], TimeSpan.FromSeconds(10), maximumPerBlock: 7);
        Assert.Equal(14, fast);
        Assert.Throws<ArgumentOutOfRangeException>(() => CallTiming.ForthAndBack([(() => { }, () => { })], TimeSpan.Zero, minimumPerBlock: 0));
    }
}
