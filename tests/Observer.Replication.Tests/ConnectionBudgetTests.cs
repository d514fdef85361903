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
}
