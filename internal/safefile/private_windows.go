package safefile

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// Windows ignores Unix modes (chmod sets only the read-only flag), and a
// new file inherits its folder's ACL, which in a user's profile also lets
// SYSTEM and the Administrators in, and elsewhere often every user. A
// private file gets instead a protected ACL (nothing inherited) with one
// entry: full control for the user running Tapline.

// userOnlyACL is that ACL; inherit makes a folder's entry apply to
// everything created inside it.
func userOnlyACL(inherit bool) (*windows.ACL, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("the current user: %w", err)
	}
	inh := uint32(windows.NO_INHERITANCE)
	if inherit {
		inh = windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT
	}
	return windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: windows.GENERIC_ALL,
		AccessMode:        windows.SET_ACCESS,
		Inheritance:       inh,
		Trustee: windows.TRUSTEE{TrusteeForm: windows.TRUSTEE_IS_SID, TrusteeType: windows.TRUSTEE_IS_USER,
			TrusteeValue: windows.TrusteeValueFromSID(u.User.Sid)},
	}}, nil)
}

func setUserOnly(path string, inherit bool) error {
	acl, err := userOnlyACL(inherit)
	if err != nil {
		return err
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil)
	if err != nil {
		return fmt.Errorf("%s: limiting access to the current user: %w", path, err)
	}
	return nil
}

// restrict gives an open, still empty private file the user-only ACL.
func restrict(f *os.File) error { return setUserOnly(f.Name(), false) }

// MkdirPrivate makes dir (and its parents) when missing; a folder it
// creates gets the user-only ACL, inherited by what is put in it.
func MkdirPrivate(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return setUserOnly(dir, true)
}

// Restrict makes an existing file private: the user-only ACL.
func Restrict(path string) error { return setUserOnly(path, false) }
