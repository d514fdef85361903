using MailKit;
using MailKit.Security;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;
using MailKitClient = MailKit.Net.Imap.ImapClient;
using MailKitFlags = MailKit.MessageFlags;
using MessageFlags = Observer.Mail.MessageFlags;

namespace Observer.MailKit.Tests;

/// <summary>
/// MailKit's APPEND of <see cref="VerbatimMessage"/>s against a real Dovecot stores exactly what
/// Observer's own client stores from the same bytes: the same MD5, flags and internal date. (Not
/// always the bytes sent: Dovecot stores a bare-LF message with CRLF, whoever appends it.)
/// </summary>
[NonParallelizable]
public class MailKitAppendTests
{
    [Test]
    public async Task HostileMessages_MultiAppendedThroughMailKit_AreStoredAsObserversOwnClientStoresThem()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Dovecot, "mailkit-append");
        var accounts = await pair.NewAccountsAsync();
        await using var own = await accounts.PrimaryClientAsync();
        await own.CreateAsync("ViaObserver");
        await own.CreateAsync("ViaMailKit");
        // A negative offset under an hour is one MailKit would send with the wrong sign; UTC is what goes out.
        var date = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromMinutes(-30));
        var flags = new MessageFlags(["\\Seen", "$Hostile"]);
        await own.MultiAppendAsync("ViaObserver", HostileMessages.All.Select(m => new AppendMessage(ImapLiteral.FromBytes(m.Bytes), flags, date)).ToList());

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
        var viaObserver = snapshot.Folders["ViaObserver"];
        var viaMailKit = snapshot.Folders["ViaMailKit"];
        Assert.That(viaMailKit, Has.Count.EqualTo(viaObserver.Count));
        for (var i = 0; i < viaObserver.Count; i++)
        {
            var name = HostileMessages.All[i].Name;
            Assert.That(viaMailKit[i].Md5, Is.EqualTo(viaObserver[i].Md5), $"{name}: bytes");
            Assert.That(viaMailKit[i].Flags, Is.EqualTo(viaObserver[i].Flags), $"{name}: flags");
            Assert.That(viaMailKit[i].InternalDate, Is.EqualTo(viaObserver[i].InternalDate), $"{name}: internal date");
        }
    }
}
