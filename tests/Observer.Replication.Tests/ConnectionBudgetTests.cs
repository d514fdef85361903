using NUnit.Framework;

namespace Observer.Replication.Tests;

/// <summary>The hard stop behind the scheduler's sizing: a connection over the budget waits for one to close.</summary>
public class ConnectionBudgetTests
{
    [Test]
    public async Task AConnectionOverTheBudget_WaitsUntilOneCloses_AndALeaseGivesItsSlotBackOnce()
    {
        var budget = new ConnectionBudget(2);
        var first = await budget.TakeAsync(CancellationToken.None);
        var second = await budget.TakeAsync(CancellationToken.None);
        var third = budget.TakeAsync(CancellationToken.None);
        Assert.That(third.IsCompleted, Is.False, "the budget is spent");
        Assert.That(budget.InUse, Is.EqualTo(2));

        first.Dispose();
        using var got = await third.WaitAsync(TimeSpan.FromSeconds(10));
        first.Dispose();
        Assert.That(budget.InUse, Is.EqualTo(2), "a lease disposed twice gives back one slot");

        using var cancel = new CancellationTokenSource();
        var fourth = budget.TakeAsync(cancel.Token);
        await cancel.CancelAsync();
        Assert.That(async () => await fourth, Throws.InstanceOf<OperationCanceledException>());
        second.Dispose();
        Assert.That(budget.InUse, Is.EqualTo(1));
    }

    [Test]
    public async Task AConnectionTheWorkCanDoWithout_GetsNoSlotWhenNoneFreesInTime_AndOneThatFreesMeanwhile()
    {
        var budget = new ConnectionBudget(1);
        var held = await budget.TakeAsync(CancellationToken.None);
        Assert.That(await budget.TryTakeAsync(TimeSpan.Zero, CancellationToken.None), Is.Null);
        Assert.That(await budget.TryTakeAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None), Is.Null);

        var patient = budget.TryTakeAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        held.Dispose();
        using var got = await patient.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(got, Is.Not.Null, "the slot freed while it waited");
        Assert.That(budget.InUse, Is.EqualTo(1));
    }

    [Test]
    public async Task ABudgetLoweredWhileInUse_LetsNoNewConnectionIn_UntilEnoughClosed_AndRaisedFreesSlotsAtOnce()
    {
        // A second worker joined: this one's share of the servers' budget halves while it holds three connections.
        var budget = new ConnectionBudget(4);
        var held = new List<IDisposable>();
        for (var i = 0; i < 3; i++) held.Add(await budget.TakeAsync(CancellationToken.None));
        budget.Resize(2);
        Assert.That((budget.Limit, budget.InUse), Is.EqualTo((2, 3)));
        var waiting = budget.TakeAsync(CancellationToken.None);
        held[0].Dispose();
        Assert.That(waiting.IsCompleted, Is.False, "one closed, but the two still open fill the new limit");
        Assert.That(budget.InUse, Is.EqualTo(2));
        held[1].Dispose();
        held.Add(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(budget.InUse, Is.EqualTo(2));
        held[2].Dispose();
        Assert.That(budget.InUse, Is.EqualTo(1));

        // The other worker left: the share grows back, and the new slots are free at once.
        budget.Resize(4);
        for (var i = 0; i < 3; i++) held.Add(await budget.TakeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That((budget.Limit, budget.InUse), Is.EqualTo((4, 4)));
        Assert.That(await budget.TryTakeAsync(TimeSpan.Zero, CancellationToken.None), Is.Null);
    }
}
