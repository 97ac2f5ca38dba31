using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Sandboxes;

namespace Crisp.Runtime.Tests.Sandboxes;

public sealed class SandboxFilesWriterTests
{
    [Fact]
    public void Resolv_conf_has_search_nameservers_and_options_from_dns_config()
    {
        var dns = new DNSConfig { Servers = { "10.96.0.10", "10.96.0.11" }, Searches = { "default.svc.cluster.local", "svc.cluster.local" }, Options = { "ndots:5" } };
        Assert.Equal(
            "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5\n",
            SandboxFilesWriter.FormatResolvConf(dns));
    }

    [Fact]
    public async Task Empty_dns_config_copies_the_hosts_resolv_conf()
    {
        var expected = File.Exists("/etc/resolv.conf") ? await File.ReadAllTextAsync("/etc/resolv.conf") : "";
        Assert.Equal(expected, await SandboxFilesWriter.ResolvConfAsync(new DNSConfig(), CancellationToken.None));
        Assert.Equal(expected, await SandboxFilesWriter.ResolvConfAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Pod_hosts_file_has_loopback_and_the_hostname()
    {
        var hosts = await SandboxFilesWriter.HostsAsync("web-0", hostNetwork: false, CancellationToken.None);
        Assert.Contains("127.0.0.1\tlocalhost\n", hosts);
        Assert.Contains("::1\tlocalhost", hosts);
        Assert.Contains("web-0\n", hosts);
    }

    [Fact]
    public async Task Writes_the_three_files()
    {
        var dir = Path.Combine(Path.GetTempPath(), "crisp-files-" + Guid.NewGuid().ToString("N"));
        try
        {
            await SandboxFilesWriter.WriteAsync(dir, "pod-a", hostNetwork: false, new DNSConfig { Servers = { "1.2.3.4" } }, CancellationToken.None);
            Assert.Equal("pod-a\n", await File.ReadAllTextAsync(Path.Combine(dir, "hostname")));
            Assert.Equal("nameserver 1.2.3.4\n", await File.ReadAllTextAsync(Path.Combine(dir, "resolv.conf")));
            Assert.Contains("pod-a", await File.ReadAllTextAsync(Path.Combine(dir, "hosts")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
