using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Xunit;

namespace Crisp.Runtime.Tests.Cgroups;

public sealed class SystemdSlicesTests
{
    [Theory]
    [InlineData("kubepods-burstable-pod1.slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice")]
    [InlineData("kubepods.slice", "/kubepods.slice")]
    [InlineData("system.slice", "/system.slice")]
    [InlineData("-.slice", "/")]
    // An escaped dash (\x2d) is part of its component, not a nesting step.
    [InlineData(@"a\x2db-c.slice", @"/a\x2db.slice/a\x2db-c.slice")]
    [InlineData("user-1000.slice", "/user.slice/user-1000.slice")]
    public void Dashes_nest_slices_as_systemd_does(string slice, string cgroup) =>
        Assert.Equal(cgroup, SystemdSlices.Expand(slice, "linux.cgroup_parent"));

    [Theory]
    [InlineData("", "ends in \".slice\"")]
    [InlineData(".slice", "ends in \".slice\"")]
    [InlineData("kubepods", "ends in \".slice\"")]
    [InlineData("kubepods.scope", "ends in \".slice\"")]
    [InlineData("-kubepods.slice", "nesting")]
    [InlineData("kubepods-.slice", "nesting")]
    [InlineData("kubepods--burstable.slice", "nesting")]
    [InlineData("kubepods.slice/burstable.slice", "'/' is not allowed")]
    [InlineData("kube pods.slice", "' ' is not allowed")]
    [InlineData("pod@1.slice", "'@' is not allowed")]
    public void Invalid_slice_names_are_refused_naming_the_field(string slice, string reason)
    {
        var e = Assert.Throws<RuntimeException>(() => SystemdSlices.Expand(slice, "linux.cgroup_parent"));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("linux.cgroup_parent", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void A_name_longer_than_a_unit_name_may_be_is_refused()
    {
        var longest = new string('a', SystemdSlices.MaxUnitNameLength - ".slice".Length) + ".slice";
        Assert.Equal("/" + longest, SystemdSlices.Expand(longest, "f"));
        var e = Assert.Throws<RuntimeException>(() => SystemdSlices.Expand("a" + longest, "f"));
        Assert.Contains("at most 255 characters", e.Message);
    }

    [Theory]
    [InlineData("12-34-ab", "12_34_ab")]
    [InlineData("a b/ü", @"a\x20b\x2f\xc3\xbc")]
    [InlineData(@"back\slash", @"back\x5cslash")]
    public void Components_from_client_text_become_valid_unit_name_parts(string text, string component)
    {
        Assert.Equal(component, SystemdSlices.EscapeComponent(text));
        Assert.Null(SystemdSlices.Invalid("crisp-pod" + component + ".slice"));
    }
}
