using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests.Procfs;

public sealed class MountInfoParserTests
{
    [Fact]
    public void Parses_every_field_of_a_line_with_optional_fields()
    {
        var entry = MountInfoParser.ParseLine("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue");

        Assert.NotNull(entry);
        Assert.Equal(36, entry.MountId);
        Assert.Equal(35, entry.ParentId);
        Assert.Equal("98:0", entry.Device);
        Assert.Equal("/mnt1", entry.Root);
        Assert.Equal("/mnt2", entry.MountPoint);
        Assert.Equal(["rw", "noatime"], entry.MountOptions);
        Assert.Equal(["master:1", "shared:7"], entry.OptionalFields);
        Assert.Equal("ext3", entry.FilesystemType);
        Assert.Equal("/dev/root", entry.Source);
        Assert.Equal(["rw", "errors=continue"], entry.SuperOptions);
        Assert.True(entry.IsShared);
        Assert.True(entry.IsSlave);
    }

    [Fact]
    public void A_line_without_optional_fields_is_private()
    {
        var entry = MountInfoParser.ParseLine("31 22 0:26 / /mnt/private rw,relatime - tmpfs tmpfs rw");

        Assert.NotNull(entry);
        Assert.Empty(entry.OptionalFields);
        Assert.False(entry.IsShared);
        Assert.False(entry.IsSlave);
        Assert.Equal("tmpfs", entry.Source);
    }

    // Lines as Linux 6.18 wrote them for tmpfs mounts (source "src x") on directories named "a b", $'a\tb', $'a\nb',
    // 'a\b', 'a#b' and 'a\040b'.
    [Theory]
    [InlineData(@"66 46 0:40 / /tmp/m/a\040b rw,relatime - tmpfs src\040x rw", "/tmp/m/a b")]
    [InlineData(@"67 46 0:41 / /tmp/m/a\011b rw,relatime - tmpfs src\040x rw", "/tmp/m/a\tb")]
    [InlineData(@"68 46 0:42 / /tmp/m/a\012b rw,relatime - tmpfs src\040x rw", "/tmp/m/a\nb")]
    [InlineData(@"69 46 0:43 / /tmp/m/a\134b rw,relatime - tmpfs src\040x rw", @"/tmp/m/a\b")]
    [InlineData(@"70 46 0:44 / /tmp/m/a#b rw,relatime - tmpfs src\040x rw", "/tmp/m/a#b")]
    [InlineData(@"71 46 0:45 / /tmp/m/a\134040b rw,relatime - tmpfs src\040x rw", @"/tmp/m/a\040b")]
    public void Kernel_lines_decode_to_the_directory_and_source_names(string line, string mountPoint)
    {
        var entry = MountInfoParser.ParseLine(line);

        Assert.NotNull(entry);
        Assert.Equal(mountPoint, entry.MountPoint);
        Assert.Equal("src x", entry.Source);
        Assert.Equal("tmpfs", entry.FilesystemType);
    }

    [Fact]
    public void Root_source_and_super_options_are_decoded_too()
    {
        var entry = MountInfoParser.ParseLine(@"110 22 8:1 /srv/my\040data /mnt/bind rw - ext4 /dev/disk\040one rw,label=a\054b");

        Assert.NotNull(entry);
        Assert.Equal("/srv/my data", entry.Root);
        Assert.Equal("/dev/disk one", entry.Source);
        Assert.Equal(["rw", "label=a,b"], entry.SuperOptions);
    }

    [Theory]
    [InlineData(@"/a\04", @"/a\04")]        // cut short at the end of the field
    [InlineData(@"/a\08x", @"/a\08x")]      // 8 is not an octal digit
    [InlineData(@"/a\0x1", @"/a\0x1")]      // only the first digit is octal
    [InlineData(@"/a\\", @"/a\\")]
    [InlineData(@"\040", " ")]
    [InlineData(@"/ends\040", "/ends ")]
    [InlineData("/plain", "/plain")]
    public void Only_a_backslash_with_three_octal_digits_is_an_escape(string field, string decoded) =>
        Assert.Equal(decoded, MountInfoParser.Unescape(field));

    [Fact]
    public void An_empty_source_is_an_empty_field_not_a_shifted_line()
    {
        var entry = MountInfoParser.ParseLine("120 22 0:60 / /mnt/x rw - tmpfs  rw,size=4k");

        Assert.NotNull(entry);
        Assert.Equal("tmpfs", entry.FilesystemType);
        Assert.Equal("", entry.Source);
        Assert.Equal(["rw", "size=4k"], entry.SuperOptions);
    }

    [Fact]
    public void A_directory_named_dash_is_not_taken_for_the_separator()
    {
        var entry = MountInfoParser.ParseLine("121 22 0:61 - /mnt/- rw shared:3 - tmpfs tmpfs rw");

        Assert.NotNull(entry);
        Assert.Equal("-", entry.Root);
        Assert.Equal("/mnt/-", entry.MountPoint);
        Assert.Equal(["shared:3"], entry.OptionalFields);
        Assert.Equal("tmpfs", entry.FilesystemType);
    }

    [Theory]
    [InlineData("")]
    [InlineData("22 1 8:1 / / rw,relatime shared:1")]                // no separator
    [InlineData("22 1 8:1 / / rw,relatime - ext4")]                  // cut after the separator
    [InlineData("x 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw")]      // mount id not a number
    [InlineData("22 1 8:1 / - ext4 /dev/sda1 rw")]                   // fewer than six fields before it
    public void Lines_without_mountinfo_shape_are_rejected(string line) =>
        Assert.Null(MountInfoParser.ParseLine(line));

    [Fact]
    public void Parse_keeps_the_kernels_order_and_skips_malformed_lines()
    {
        var entries = MountInfoParser.Parse(
        [
            "22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw",
            "garbage",
            "23 22 0:5 / /dev rw - devtmpfs udev rw",
        ]);

        Assert.Equal([22, 23], entries.Select(e => e.MountId));
    }
}
