package filemode

import (
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// UnderWine reports whether this Windows is Wine, which derives every file
// ACL from the Unix mode and keeps none that is set.
func UnderWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// userOnly reports whether path's ACL is protected and every entry in it
// grants the current user.
func userOnly(path string) (bool, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return false, err
	}
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return false, err
	}
	sid := u.User.Sid.String()
	sddl := sd.String() // D:P(A;;FA;;;S-1-5-21-...)(...)
	if !strings.HasPrefix(sddl, "D:P") {
		return false, nil
	}
	aces := strings.Split(sddl, "(")[1:]
	for _, a := range aces {
		if !strings.HasSuffix(a, ";"+sid+")") {
			return false, nil
		}
	}
	return len(aces) > 0, nil
}

func is(path string, perm fs.FileMode) (bool, error) {
	if _, err := os.Stat(path); err != nil {
		return false, err
	}
	if UnderWine() {
		return true, nil
	}
	only, err := userOnly(path)
	if err != nil {
		return false, err
	}
	return only == (perm&0o077 == 0), nil
}

func private(path string) (bool, error) { return is(path, 0o600) }
