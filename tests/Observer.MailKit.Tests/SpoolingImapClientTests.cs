using System.Security.Cryptography;
using System.Text;
using MailKit;
using MailKit.Security;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>Fetching through <see cref="SpoolingImapClient"/> from a real Dovecot: large messages go to an unlinked file, small ones stay in memory.</summary>
[NonParallelizable]
public class SpoolingImapClientTests
{
    [Test]
    public async Task ALargeMessage_IsFetchedIntoAnUnlinkedFile_ASmallOneIntoMemory_BothByteForByte()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Dovecot, "mailkit-spool");
        var accounts = await pair.NewAccountsAsync();
        var spool = Directory.CreateTempSubdirectory("observer-spool-").FullName;
        try
        {
            var large = Encoding.ASCII.GetBytes("Subject: large\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('z', 998) + "\r\n", 20_000)));
            var small = Encoding.ASCII.GetBytes("Subject: small\r\n\r\nshort\r\n");
            using var client = new SpoolingImapClient(new NullProtocolLogger(), spool);
            await client.ConnectAsync(pair.Primary.Host, pair.Primary.Port, SecureSocketOptions.None);
            await client.AuthenticateAsync(accounts.Primary.User, accounts.Primary.Password);
            var uids = await client.Inbox.AppendAsync([new AppendRequest(VerbatimMessage.From(large)), new AppendRequest(VerbatimMessage.From(small))]);
            await client.Inbox.OpenAsync(FolderAccess.ReadOnly);

            using (var fetched = await client.Inbox.GetStreamAsync(uids[0], ""))
            {
                Assert.That(fetched, Is.InstanceOf<SpoolingFolder.KeptFileStream>(), $"{large.Length} bytes is above the {SpoolingImapClient.DefaultThreshold}-byte threshold");
                Assert.That(Directory.GetFiles(spool), Is.Empty, "the spool file is unlinked while in use");
                Assert.That(Convert.ToHexString(await MD5.HashDataAsync(fetched)), Is.EqualTo(Convert.ToHexString(MD5.HashData(large))));
                var (file, md5) = ((SpoolingFolder.KeptFileStream)fetched).Take();
                using (file)
                    Assert.That(md5 is null ? null : Convert.ToHexString(md5), Is.EqualTo(Convert.ToHexString(MD5.HashData(large))), "the MD5 worked out as MailKit wrote the spool file");
            }
            using (var fetched = await client.Inbox.GetStreamAsync(uids[1], ""))
            {
                Assert.That(fetched, Is.Not.InstanceOf<SpoolingFolder.KeptFileStream>());
                Assert.That(Convert.ToHexString(await MD5.HashDataAsync(fetched)), Is.EqualTo(Convert.ToHexString(MD5.HashData(small))));
            }
            await client.DisconnectAsync(quit: true);
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }

    [Test]
    public async Task ASpoolFile_KnowsItsMd5_OnlyWhenEveryByteWasWrittenOnceInOrder()
    {
        var spool = Directory.CreateTempSubdirectory("observer-spool-").FullName;
        try
        {
            var bytes = Encoding.ASCII.GetBytes("Subject: x\r\n\r\n" + new string('y', 200_000));
            using (var inOrder = new SpoolingFolder.KeptFileStream(Observer.Mail.TempFileLiteralSpool.CreateUnlinkedFile(spool, "t", 4096)))
            {
                inOrder.Write(bytes, 0, 10);
                await inOrder.WriteAsync(bytes.AsMemory(10, 100_000));
                inOrder.Write(bytes.AsSpan(100_010));
                var (file, md5) = inOrder.Take();
                using (file) Assert.That(md5, Is.EqualTo(MD5.HashData(bytes)));
            }
            using (var rewritten = new SpoolingFolder.KeptFileStream(Observer.Mail.TempFileLiteralSpool.CreateUnlinkedFile(spool, "t", 4096)))
            {
                // As many bytes written as the file holds, but not once each: 5-10 twice, 15-20 never.
                rewritten.Write(bytes.AsSpan(0, 10));
                rewritten.Position = 5;
                rewritten.Write(bytes.AsSpan(5, 5));
                rewritten.Position = 15;
                rewritten.Write(bytes.AsSpan(15, 5));
                var (file, md5) = rewritten.Take();
                using (file) Assert.That(md5, Is.Null, "a write that did not follow the last one leaves the digest unknown, to be read from the file");
            }
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }
}
