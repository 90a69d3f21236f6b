package dissect

// Function, service and type code names for the operations log, in each
// specification's own words.

// modbusFunctions: MB-AP §5.1 public function codes.
var modbusFunctions = names{
	1: "Read Coils", 2: "Read Discrete Inputs", 3: "Read Holding Registers", 4: "Read Input Registers",
	5: "Write Single Coil", 6: "Write Single Register", 7: "Read Exception Status", 8: "Diagnostics",
	11: "Get Comm Event Counter", 12: "Get Comm Event Log", 15: "Write Multiple Coils",
	16: "Write Multiple Registers", 17: "Report Server ID", 20: "Read File Record", 21: "Write File Record",
	22: "Mask Write Register", 23: "Read/Write Multiple Registers", 24: "Read FIFO Queue",
	43: "Encapsulated Interface Transport",
}

// dnp3Functions: IEEE 1815-2012 table 4-4 and 4-5.
var dnp3Functions = names{
	0: "Confirm", 1: "Read", 2: "Write", 3: "Select", 4: "Operate", 5: "Direct Operate",
	6: "Direct Operate No Ack", 7: "Immediate Freeze", 8: "Immediate Freeze No Ack", 9: "Freeze Clear",
	10: "Freeze Clear No Ack", 11: "Freeze At Time", 12: "Freeze At Time No Ack", 13: "Cold Restart",
	14: "Warm Restart", 15: "Initialize Data", 16: "Initialize Application", 17: "Start Application",
	18: "Stop Application", 19: "Save Configuration", 20: "Enable Unsolicited", 21: "Disable Unsolicited",
	22: "Assign Class", 23: "Delay Measurement", 24: "Record Current Time", 25: "Open File", 26: "Close File",
	27: "Delete File", 28: "Get File Info", 29: "Authenticate File", 30: "Abort File", 31: "Activate Config",
	32: "Authentication Request", 33: "Authentication Request No Ack", 129: "Response",
	130: "Unsolicited Response", 131: "Authentication Response",
}

// s7Functions: S7comm parameter function codes (as Wireshark's s7comm
// dissector names them).
var s7Functions = names{
	0x00: "CPU services", 0x04: "Read Var", 0x05: "Write Var", 0x1a: "Request download",
	0x1b: "Download block", 0x1c: "Download ended", 0x1d: "Start upload", 0x1e: "Upload",
	0x1f: "End upload", 0x28: "PI-Service", 0x29: "PLC Stop", 0xf0: "Setup communication",
}

// cipServices: CIP Vol 1 appendix A table common services, and the
// Connection Manager's (§3-5.5).
var cipServices = names{
	0x01: "Get_Attributes_All", 0x02: "Set_Attributes_All", 0x03: "Get_Attribute_List",
	0x04: "Set_Attribute_List", 0x05: "Reset", 0x06: "Start", 0x07: "Stop", 0x08: "Create", 0x09: "Delete",
	0x0a: "Multiple_Service_Packet", 0x0d: "Apply_Attributes", 0x0e: "Get_Attribute_Single",
	0x10: "Set_Attribute_Single", 0x11: "Find_Next_Object_Instance", 0x15: "Restore", 0x16: "Save",
	0x17: "No_Operation", 0x18: "Get_Member", 0x19: "Set_Member", 0x1a: "Insert_Member", 0x1b: "Remove_Member",
	0x4e: "Forward_Close", 0x52: "Unconnected_Send", 0x54: "Forward_Open", 0x5b: "Large_Forward_Open",
}

// CIPServiceName names a CIP request's service. Codes from 0x4B up are
// object specific (CIP Vol 1 §4-9.8), so they are named only for the
// objects whose services are known: the Connection Manager (class 6:
// Forward_Close, Unconnected_Send, Forward_Open, ...), the Non-Volatile
// Storage object (class 0xA1: Update 0x4B, Transfer 0x4D) and the Logix
// tag services on a symbolic path (Read_Tag 0x4C, Write_Tag 0x4D,
// Read_Modify_Write_Tag 0x4E, Read_Tag_Fragmented 0x52,
// Write_Tag_Fragmented 0x53); "" otherwise.
func CIPServiceName(svc uint8, class int32, symbolic bool) string {
	if svc < 0x4b {
		return cipServices[svc]
	}
	switch {
	case class == 6:
		return cipServices[svc]
	case class == 0xa1 && svc == 0x4b:
		return "NVS_Update"
	case class == 0xa1 && svc == 0x4d:
		return "NVS_Transfer"
	case symbolic:
		switch svc {
		case 0x4c:
			return "Read_Tag"
		case 0x4d:
			return "Write_Tag"
		case 0x4e:
			return "Read_Modify_Write_Tag"
		case 0x52:
			return "Read_Tag_Fragmented"
		case 0x53:
			return "Write_Tag_Fragmented"
		}
	}
	return ""
}

// bacnetConfirmed: ANSI/ASHRAE 135-2020 §21 BACnetConfirmedServiceChoice;
// bacnetUnconfirmed: BACnetUnconfirmedServiceChoice (the same codes name
// other services there: Result.Unconfirmed says which table applies).
var bacnetConfirmed = names{
	0: "acknowledgeAlarm", 1: "confirmedCOVNotification", 2: "confirmedEventNotification",
	3: "getAlarmSummary", 4: "getEnrollmentSummary", 5: "subscribeCOV", 6: "atomicReadFile",
	7: "atomicWriteFile", 8: "addListElement", 9: "removeListElement", 10: "createObject",
	11: "deleteObject", 12: "readProperty", 14: "readPropertyMultiple", 15: "writeProperty",
	16: "writePropertyMultiple", 17: "deviceCommunicationControl", 18: "confirmedPrivateTransfer",
	19: "confirmedTextMessage", 20: "reinitializeDevice", 21: "vtOpen", 22: "vtClose", 23: "vtData",
	26: "readRange", 27: "lifeSafetyOperation", 28: "subscribeCOVProperty", 29: "getEventInformation",
	30: "subscribeCOVPropertyMultiple", 31: "confirmedCOVNotificationMultiple", 32: "confirmedAuditNotification",
	33: "auditLogQuery",
}

var bacnetUnconfirmed = lookup(&names{
	0: "i-Am", 1: "i-Have", 2: "unconfirmedCOVNotification", 3: "unconfirmedEventNotification",
	4: "unconfirmedPrivateTransfer", 5: "unconfirmedTextMessage", 6: "timeSynchronization", 7: "who-Has",
	8: "who-Is", 9: "utcTimeSynchronization", 10: "writeGroup", 11: "unconfirmedCOVNotificationMultiple",
	12: "unconfirmedAuditNotification", 13: "who-Am-I", 14: "you-Are",
})

// BACnetUnconfirmedName names an unconfirmed service choice.
func BACnetUnconfirmedName(fc int) string { return bacnetUnconfirmed(fc) }

// iec104Types: IEC 60870-5-101 §7.2.1.1 and 60870-5-104 type
// identifications.
var iec104Types = names{
	1: "M_SP_NA_1", 3: "M_DP_NA_1", 5: "M_ST_NA_1", 7: "M_BO_NA_1", 9: "M_ME_NA_1", 11: "M_ME_NB_1",
	13: "M_ME_NC_1", 15: "M_IT_NA_1", 20: "M_PS_NA_1", 21: "M_ME_ND_1", 30: "M_SP_TB_1", 31: "M_DP_TB_1",
	32: "M_ST_TB_1", 33: "M_BO_TB_1", 34: "M_ME_TD_1", 35: "M_ME_TE_1", 36: "M_ME_TF_1", 37: "M_IT_TB_1",
	38: "M_EP_TD_1", 39: "M_EP_TE_1", 40: "M_EP_TF_1", 45: "C_SC_NA_1", 46: "C_DC_NA_1", 47: "C_RC_NA_1",
	48: "C_SE_NA_1", 49: "C_SE_NB_1", 50: "C_SE_NC_1", 51: "C_BO_NA_1", 58: "C_SC_TA_1", 59: "C_DC_TA_1",
	60: "C_RC_TA_1", 61: "C_SE_TA_1", 62: "C_SE_TB_1", 63: "C_SE_TC_1", 64: "C_BO_TA_1", 70: "M_EI_NA_1",
	100: "C_IC_NA_1", 101: "C_CI_NA_1", 102: "C_RD_NA_1", 103: "C_CS_NA_1", 104: "C_TS_NA_1",
	105: "C_RP_NA_1", 106: "C_CD_NA_1", 107: "C_TS_TA_1", 110: "P_ME_NA_1", 111: "P_ME_NB_1",
	112: "P_ME_NC_1", 113: "P_AC_NA_1", 120: "F_FR_NA_1", 121: "F_SR_NA_1", 122: "F_SC_NA_1",
	123: "F_LS_NA_1", 124: "F_AF_NA_1", 125: "F_SG_NA_1", 126: "F_DR_TA_1", 127: "F_SC_NB_1",
}

// names are a protocol's function, service or type codes' names, indexed
// by code: an array literal is static data, so the tables cost nothing at
// start-up (as maps they took hundreds of allocations at each start), and
// naming a function on the packet path is one load.
type names [256]string

// lookup makes a Descriptor.Functions from a table.
func lookup(a *names) func(int) string {
	return func(fc int) string {
		if fc < 0 || fc >= len(a) {
			return ""
		}
		return a[fc]
	}
}

// S7UserdataName names an S7 userdata function group and subfunction
// (s7comm.c "userdata_functiongroup_names" and the subfunction tables);
// a mode transition is named by the mode the PLC reports.
func S7UserdataName(group, sub int) string {
	switch group {
	case 0:
		if sub >= 0 && sub < len(s7Modes) && s7Modes[sub] != "" {
			return "Mode-transition " + s7Modes[sub]
		}
		return "Mode-transition"
	case 1:
		return "Programmer commands"
	case 2:
		return "Cyclic data"
	case 3:
		switch sub {
		case 1:
			return "List blocks"
		case 2:
			return "List blocks of type"
		case 3:
			return "Get block info"
		}
		return "Block functions"
	case 4:
		switch sub {
		case 1:
			return "Read SZL"
		case 2:
			return "Message service"
		case 3:
			return "Diagnostic message"
		}
		return "CPU functions"
	case 5:
		switch sub {
		case 1:
			return "PLC password"
		case 2:
			return "Clean session"
		}
		return "Security"
	case 6:
		return "PBC BSEND/BRECV"
	case 7:
		switch sub {
		case 1:
			return "Read clock"
		case 2:
			return "Set clock"
		case 3:
			return "Read clock (following)"
		case 4:
			return "Set clock"
		}
		return "Time functions"
	case 15:
		return "NC programming"
	}
	return ""
}

// s7Modes are the CPU modes a mode-transition push reports (s7comm.c
// "modetrans_param_subfunc_names").
var s7Modes = [16]string{0: "STOP", 1: "Warm Restart", 2: "RUN", 3: "Hot Restart", 4: "HOLD", 6: "Cold Restart",
	9: "RUN_R (H-System redundant)", 11: "LINK-UP", 12: "UPDATE"}

// BACnetObjectTypeName names a standard BACnet object type (135-2020 §21
// BACnetObjectType), "" for a proprietary or unknown one.
func BACnetObjectTypeName(t uint16) string {
	if int(t) < len(bacnetObjectTypes) {
		return bacnetObjectTypes[t]
	}
	return ""
}

var bacnetObjectTypes = [...]string{
	"analog-input", "analog-output", "analog-value", "binary-input", "binary-output", "binary-value", "calendar",
	"command", "device", "event-enrollment", "file", "group", "loop", "multi-state-input", "multi-state-output",
	"notification-class", "program", "schedule", "averaging", "multi-state-value", "trend-log", "life-safety-point",
	"life-safety-zone", "accumulator", "pulse-converter", "event-log", "global-group", "trend-log-multiple",
	"load-control", "structured-view", "access-door", "timer", "access-credential", "access-point",
	"access-rights", "access-user", "access-zone", "credential-data-input", "network-security",
	"bitstring-value", "characterstring-value", "date-pattern-value", "date-value", "datetime-pattern-value",
	"datetime-value", "integer-value", "large-analog-value", "octetstring-value", "positive-integer-value",
	"time-pattern-value", "time-value", "notification-forwarder", "alert-enrollment", "channel",
	"lighting-output", "binary-lighting-output", "network-port", "elevator-group", "escalator", "lift",
	"staging", "audit-log", "audit-reporter", "color", "color-temperature",
}

// BACnetPropertyName names the BACnet properties operations most often
// name (135-2020 §21 BACnetPropertyIdentifier), "" for others.
func BACnetPropertyName(p int32) string {
	if p < 0 || int(p) >= len(bacnetProperties) {
		return ""
	}
	return bacnetProperties[p]
}

var bacnetProperties = [128]string{
	8: "all", 12: "application-software-version", 28: "description", 36: "event-state", 44: "firmware-revision",
	58: "location", 62: "max-apdu-length-accepted", 70: "model-name", 75: "object-identifier", 76: "object-list",
	77: "object-name", 79: "object-type", 81: "out-of-service", 85: "present-value", 87: "priority-array",
	103: "reliability", 104: "relinquish-default", 107: "segmentation-supported", 111: "status-flags",
	112: "system-status", 117: "units", 120: "vendor-identifier", 121: "vendor-name",
}
