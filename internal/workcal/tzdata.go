package workcal

// Deadlines are computed in the office's zone (Asia/Shanghai); embedding the
// zone database keeps them right on minimal containers that ship without
// /usr/share/zoneinfo, where LoadLocation would otherwise fail.
import _ "time/tzdata"
