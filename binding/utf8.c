#include "utf8.h"

bool binding_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while(i < n){
		uint8_t c = s[i];
		size_t need;
		uint32_t cp, min;

		if(c < 0x80){
			i++;
			continue;
		}
		if(c >= 0xc2 && c <= 0xdf){
			need = 1; cp = c & 0x1fu; min = 0x80;
		}else if((c & 0xf0) == 0xe0){
			need = 2; cp = c & 0x0fu; min = 0x800;
		}else if(c >= 0xf0 && c <= 0xf4){
			need = 3; cp = c & 0x07u; min = 0x10000;
		}else{
			return false;
		}
		if(n - i - 1 < need) return false;
		for(size_t k = 1; k <= need; k++){
			uint8_t d = s[i + k];
			if((d & 0xc0) != 0x80) return false;
			cp = (cp << 6) | (d & 0x3fu);
		}
		if(cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
		i += need + 1;
	}
	return true;
}
