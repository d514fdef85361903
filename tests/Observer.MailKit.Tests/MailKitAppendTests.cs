using MailKit;
using MailKit.Security;
using NUnit.Framework;
using Observer.TestSupport;
using MailKitClient = MailKit.Net.Imap.ImapClient;
using MailKitFlags = MailKit.MessageFlags;

namespace Observer.MailKit.Tests;

/// <summary>
/// MailKit's APPEND of <see cref="VerbatimMessage"/>s against a real Dovecot stores exactly what a
/// plain APPEND of the same bytes stores: the same MD5, flags and internal date. (Not always the bytes
/// sent: Dovecot stores a bare-LF message with CRLF, whoever appends it.)
/// </summary>
[NonParallelizable]
public class MailKitAppendTests
{
    [Test]
    public async Task HostileMessages_MultiAppendedThroughMailKit_AreStoredAsAPlainAppendStoresThem()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Dovecot, "mailkit-append");
        var accounts = await pair.NewAccountsAsync();
        await using var own = await accounts.PrimaryClientAsync();
        await own.CreateAsync("ViaPlainAppend");
        await own.CreateAsync("ViaMailKit");
        // A negative offset under an hour is one MailKit would send with the wrong sign; UTC is what goes out.
        var date = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromMinutes(-30));
        await RawAppend.MultiAppendAsync(pair.Primary, accounts.Primary, "ViaPlainAppend", HostileMessages.All.Select(m => m.Bytes).ToList(), "\\Seen $Hostile", date);

        using (var client = new MailKitClient())
        {
            await client.ConnectAsync(pair.Primary.Host, pair.Primary.Port, SecureSocketOptions.None);
            await client.AuthenticateAsync(accounts.Primary.User, accounts.Primary.Password);
            var folder = await client.GetFolderAsync("ViaMailKit");
            var requests = HostileMessages.All
                .Select(m => (IAppendRequest)new AppendRequest(VerbatimMessage.From(m.Bytes), MailKitFlags.Seen, ["$Hostile"], date.ToUniversalTime()))
                .ToList();
            var uids = await folder.AppendAsync(requests);
            Assert.That(uids, Has.Count.EqualTo(HostileMessages.All.Count), "APPENDUID for every message of the MULTIAPPEND");
            await client.DisconnectAsync(quit: true);
        }

        var snapshot = await AccountSnapshot.ReadAsync(own);
        var viaPlainAppend = snapshot.Folders["ViaPlainAppend"];
        var viaMailKit = snapshot.Folders["ViaMailKit"];
        Assert.That(viaMailKit, Has.Count.EqualTo(viaPlainAppend.Count));
        for (var i = 0; i < viaPlainAppend.Count; i++)
        {
            var name = HostileMessages.All[i].Name;
            Assert.That(viaMailKit[i].Md5, Is.EqualTo(viaPlainAppend[i].Md5), $"{name}: bytes");
            Assert.That(viaMailKit[i].Flags, Is.EqualTo(viaPlainAppend[i].Flags), $"{name}: flags");
            Assert.That(viaMailKit[i].InternalDate, Is.EqualTo(viaPlainAppend[i].InternalDate), $"{name}: internal date");
        }
    }
}
