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
    public void RoundsRepeatTheWholeForthAndBack()
    {
        var calls = new List<string>();
        (Action, Action) Path(string name) => (() => calls.Add(name + " settle"), () => calls.Add(name));
        CallTiming.ForthAndBack([Path("a"), Path("b")], TimeSpan.Zero, minimumPerBlock: 1, rounds: 3);
        string[] round = ["a settle", "a", "b settle", "b", "b settle", "b", "a settle", "a"];
        Assert.Equal([.. round, .. round, .. round], calls);
        Assert.Throws<ArgumentOutOfRangeException>(() => CallTiming.ForthAndBack([Path("a")], TimeSpan.Zero, rounds: 0));
    }

    [Fact]
    public void RoundsLeaveAboutTwoCallsInEachBlock()
    {
        // A path's budget is split into 2 blocks per round: 10 s of 0.6 s calls in 4 rounds (blocks of 1.25 s, two calls);
        // a call longer than a quarter of the budget gets one round; fast calls at most `most`.
        Assert.Equal(4, CallTiming.RoundsFor(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(0.6)));
        Assert.Equal(1, CallTiming.RoundsFor(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(0.6)));
        Assert.Equal(8, CallTiming.RoundsFor(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(10)));
        Assert.Equal(3, CallTiming.RoundsFor(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(10), most: 3));
        Assert.Equal(8, CallTiming.RoundsFor(TimeSpan.FromSeconds(2), TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => CallTiming.RoundsFor(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), most: 0));
    }

    [Fact]
    public void InRoundsSplitsAPathsBudgetIntoRoundsForItsCalls()
    {
        var calls = new List<string>();
        (Action, Action) Path(string name) => (() => calls.Add(name + " settle"), () => calls.Add(name));
        // Calls of no time: 8 rounds of blocks of one call (the blocks' time is up at once).
        CallTiming.InRounds([Path("a")], TimeSpan.Zero, TimeSpan.Zero);
        Assert.Equal(Enumerable.Repeat<string[]>(["a settle", "a"], 16).SelectMany(b => b), calls);
        // A call as long as the budget: one round of two blocks of two calls.
        calls.Clear();
        CallTiming.InRounds([Path("a")], TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Equal(["a settle", "a", "a", "a settle", "a", "a"], calls);
    }

    [Fact]
    public void WarmUpGivesTheTimeOfItsLastCall()
    {
        int calls = 0;
        var last = CallTiming.WarmUp(() => Thread.Sleep(++calls == 3 ? 50 : 1), TimeSpan.Zero, minCalls: 3);
        Assert.Equal(3, calls);
        Assert.InRange(last.TotalMilliseconds, 45, 5000);
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
