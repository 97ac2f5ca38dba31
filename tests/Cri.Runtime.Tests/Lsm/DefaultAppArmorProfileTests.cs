using Crisp.Runtime.Lsm;
using Xunit;

namespace Crisp.Runtime.Tests.Lsm;

public sealed class DefaultAppArmorProfileTests
{
    [Fact]
    public void The_profile_is_named_attaches_disconnected_and_holds_the_deny_rules()
    {
        var text = DefaultAppArmorProfile.Generate("crisp-default", "unconfined", abi3: false, tunables: false, abstractionsBase: false);
        Assert.Contains("@{PROC}=/proc/", text);
        Assert.Contains("profile crisp-default flags=(attach_disconnected,mediate_deleted) {", text);
        foreach (var rule in new[]
        {
            "deny mount,", "deny @{PROC}/* w,", "deny @{PROC}/sys/[^k]** w,", "deny @{PROC}/sysrq-trigger rwklx,",
            "deny @{PROC}/kcore rwklx,", "deny /sys/[^f]*/** wklx,", "deny /sys/firmware/** rwklx,", "deny /sys/kernel/security/** rwklx,",
            "signal (send,receive) peer=crisp-default,", "signal (receive) peer=unconfined,", "ptrace (trace,tracedby,read,readby) peer=crisp-default,",
        })
            Assert.Contains("  " + rule + "\n", text);
    }

    [Fact]
    public void The_structure_is_one_block_of_comma_terminated_rules()
    {
        var text = DefaultAppArmorProfile.Generate("crisp-default", "crispd daemon", abi3: true, tunables: true, abstractionsBase: true);
        var lines = text.Split('\n');
        Assert.Equal("abi <abi/3.0>,", lines[0]);
        Assert.Equal("#include <tunables/global>", lines[1]);
        Assert.DoesNotContain("@{PROC}=", text);
        var open = Array.FindIndex(lines, l => l.StartsWith("profile ", StringComparison.Ordinal));
        var close = Array.FindLastIndex(lines, l => l == "}");
        Assert.True(open > 0 && close > open);
        Assert.All(lines[(close + 1)..], l => Assert.Equal("", l));
        var body = lines[(open + 1)..close].Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#') || l.StartsWith("#include", StringComparison.Ordinal)).ToList();
        Assert.Contains("#include <abstractions/base>", body);
        Assert.All(body.Where(l => !l.StartsWith('#')), rule => Assert.EndsWith(",", rule));
        // A daemon label with spaces must be quoted to stay one peer= value.
        Assert.Contains("  signal (receive) peer=\"crispd daemon\",\n", text);
    }
}
