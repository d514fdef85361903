using NUnit.Framework;

namespace Observer.Replication.Tests;

/// <summary>The hard stop behind the scheduler's sizing: a connection over the budget waits for one to close.</summary>
public class ConnectionBudgetTests
{
    [Test]
    public async Task AConnectionOverTheBudget_WaitsUntilOneCloses_AndALeaseGivesItsSlotBackOnce()
    {
        var budget = new ConnectionBudget(2, "primary test:143");
        var first = await budget.TakeAsync(CancellationToken.None);
        var second = await budget.TakeAsync(CancellationToken.None);
        var third = budget.TakeAsync(CancellationToken.None);
        Assert.That(third.IsCompleted, Is.False, "the budget is spent");
        Assert.That((budget.InUse, budget.Peak), Is.EqualTo((2, 2)));

        first.Dispose();
        using var got = await third.WaitAsync(TimeSpan.FromSeconds(10));
        first.Dispose();
        Assert.That(budget.InUse, Is.EqualTo(2), "a lease disposed twice gives back one slot");

        using var cancel = new CancellationTokenSource();
        var fourth = budget.TakeAsync(cancel.Token);
        await cancel.CancelAsync();
        Assert.That(async () => await fourth, Throws.InstanceOf<OperationCanceledException>());
        second.Dispose();
        Assert.That((budget.InUse, budget.Peak), Is.EqualTo((1, 2)));
    }
}
